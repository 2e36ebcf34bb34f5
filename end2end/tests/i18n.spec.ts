import { test, expect, type Page } from "@playwright/test";
import { PASSWORD, audit, uniqueEmail, waitForHydration } from "./helpers";

// The interface in German: a browser that asks for German gets it from the first byte,
// keeps it through hydration, and can switch languages in the footer.

test.use({ locale: "de-DE" });

/** Records every text the page ever shows, from before the first paint on, so a flash
 * of another language during hydration cannot slip by. */
async function recordTexts(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __seen: string[] }).__seen = seen;
    const record = (node: Node) => {
      if (node.textContent) seen.push(node.textContent);
    };
    new MutationObserver((mutations) => {
      for (const m of mutations) {
        if (m.type === "characterData") record(m.target);
        m.addedNodes.forEach(record);
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
}

async function textsSeen(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as { __seen: string[] }).__seen.join("\n"));
}

test("a whole visit in German: sign up, devices, password, sign out, with no English on the way", async ({ page, browser }) => {
  await recordTexts(page);
  const email = uniqueEmail("de");

  await page.goto("/signup");
  await expect(page.locator("html")).toHaveAttribute("lang", "de");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Konto erstellen");
  await waitForHydration(page);
  await page.getByLabel("E-Mail-Adresse").fill(email);
  await page.getByLabel("Passwort", { exact: true }).fill("kurz");
  await page.getByRole("button", { name: "Konto erstellen" }).click();
  // The browser's own length check speaks the browser's language; ours is tried with
  // a password long enough for it and an address that is taken below.
  await page.getByLabel("Passwort", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Konto erstellen" }).click();
  await expect(page.getByTestId("viewer-email")).toHaveText(email);
  await expect(page.getByRole("navigation", { name: "Hauptnavigation" }).getByRole("link", { name: "Geräte" })).toBeVisible();

  // A second device, also German, signs in; the first signs it out after confirming.
  const other = await (await browser.newContext({ locale: "de-DE" })).newPage();
  await other.goto("/login");
  await waitForHydration(other);
  await other.getByLabel("E-Mail-Adresse").fill(email);
  await other.getByLabel("Passwort", { exact: true }).fill("nicht das Passwort");
  await other.getByRole("button", { name: "Anmelden", exact: true }).click();
  await expect(other.getByRole("alert")).toHaveText("E-Mail-Adresse oder Passwort ist falsch.");
  await other.getByLabel("Passwort", { exact: true }).fill(PASSWORD);
  await other.getByRole("button", { name: "Anmelden", exact: true }).click();
  await expect(other.getByTestId("viewer-email")).toHaveText(email);

  await page.getByRole("link", { name: "Geräte" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Ihre Geräte");
  await expect(page.getByTestId("device")).toHaveCount(2);
  await expect(page.getByTestId("device").first()).toContainText("gerade eben");
  await expect(page.getByTestId("device").first()).toContainText("Dieses Gerät");
  await expect(page.getByTestId("sign-in-method").first()).toHaveText("Passwort");
  await page.getByTestId("device").nth(1).getByRole("link", { name: /abmelden$/ }).click();
  await page.getByRole("button", { name: "Ja, abmelden" }).click();
  await expect(page.getByRole("status")).toHaveText(
    "Das Gerät wurde abgemeldet. Es muss sich bei seiner nächsten Anfrage neu anmelden.",
  );
  await expect(page.getByTestId("device")).toHaveCount(1);

  // The activity page: titles, sentences and times in German.
  await page.getByRole("link", { name: "Aktivität" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Kontoaktivität");
  await expect(page.getByTestId("activity-item").first()).toContainText("Gerät abgemeldet");
  await expect(page.getByTestId("activity-item").first()).toContainText("gerade eben");

  // The password, on the account page.
  await page.getByRole("link", { name: "Konto" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Ihr Konto");
  await page.getByLabel("Neues Passwort").fill("eine ganz neue Passphrase");
  await page.getByRole("button", { name: "Passwort ändern" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Ihr Passwort wurde geändert" })).toBeFocused();

  await page.getByRole("button", { name: "Abmelden" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("status")).toHaveText("Sie haben sich abgemeldet.");

  // Nothing English was ever on screen, during hydration or after any action.
  const seen = await textsSeen(page);
  // (Whole words: "1Password", an app's name, is fine.)
  for (const english of ["Sign in", "Create account", "Your devices", "Password", "Loading", "ago"]) {
    expect(seen, `"${english}" appeared`).not.toMatch(new RegExp(`\\b${english}\\b`));
  }
  expect(seen).toContain("Ihre Geräte");
});

test("the footer switches the language, remembers it, and returns to the same page", async ({ page, context }) => {
  await page.goto("/forgot");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Passwort vergessen?");
  const switcher = page.getByRole("form", { name: "Sprache" });
  await expect(switcher.getByText("Deutsch")).toHaveAttribute("aria-label", "Deutsch (aktuelle Sprache)");
  await switcher.getByRole("button", { name: "English" }).click();
  await expect(page).toHaveURL(/\/forgot$/);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Forgot your password?");
  const cookie = (await context.cookies()).find((c) => c.name === "language");
  expect(cookie?.value).toBe("en");
  expect(cookie?.httpOnly).toBe(true);

  // Remembered across pages, over the browser's German.
  await page.goto("/login");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign in");
  await waitForHydration(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign in");

  // And back, after hydration (the same plain form post).
  await page.getByRole("form", { name: "Language" }).getByRole("button", { name: "Deutsch" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Anmelden");
  await waitForHydration(page);
  await expect(page.getByRole("button", { name: "Anmelden", exact: true })).toBeEnabled();
});

test("the switcher works without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, locale: "en-US" });
  const page = await context.newPage();
  await page.goto("/signup");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Create an account");
  await page.getByRole("button", { name: "Deutsch" }).click();
  await expect(page).toHaveURL(/\/signup$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Konto erstellen");
  await context.close();
});

test("German pages pass axe", async ({ page }) => {
  await page.goto("/login");
  await audit(page, "/login in German");
  await page.goto("/signup");
  await audit(page, "/signup in German");
});
