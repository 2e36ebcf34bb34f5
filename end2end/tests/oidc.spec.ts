import { test, expect, type Page } from "@playwright/test";
import { PASSWORD, audit, signIn, signUp, uniqueEmail, untilSudoEnds, waitForHydration } from "./helpers";

// Sign-in with an OpenID provider, through the provider's own login page in Chromium:
// a real one (panva's oidc-provider, started by playwright.config.ts as "Test ID").

// The server with an 8-second sudo window, at its PUBLIC_URL (localhost), where the
// provider sends the browser back.
const sudoServer = process.env.E2E_SUDO_URL!.replace("127.0.0.1", "localhost");

/**
 * Fills in the provider's own login page (a different site) as `email`. The way there
 * may first check a password (sudo mode) with Argon2 on a thread of low priority, which
 * a loaded machine can hold back for seconds: hence the longer wait for the provider.
 */
async function atProvider(page: Page, email: string): Promise<void> {
  await expect(page).toHaveURL(new RegExp(`^${process.env.E2E_OIDC_ISSUER}/`), { timeout: 15_000 });
  await expect(page.getByRole("heading", { name: "Test identity provider" })).toBeVisible();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("a new account through the provider: signed in, named on the devices page, no password", async ({ page }) => {
  const email = uniqueEmail("oidc-new");
  await page.goto("/login?next=/devices");
  await page.getByRole("button", { name: "Sign in with Test ID" }).click();
  await atProvider(page, email);
  await expect(page).toHaveURL(/\/devices$/);
  await expect(page.getByTestId("viewer-email")).toHaveText(email);
  await expect(page.getByTestId("sign-in-method")).toHaveText("Test ID");

  await page.goto("/account");
  await expect(page.getByTestId("no-password")).toBeVisible();
  const connected = page.getByTestId("connected-account");
  await expect(connected).toContainText("Test ID");
  await expect(connected).toContainText(email);
  // Its only way in cannot be disconnected.
  await expect(connected.getByRole("button", { name: /Disconnect/ })).toHaveCount(0);
  await expect(connected).toContainText("only way to sign in");
  await audit(page, "/account of an account made by a provider");
});

test("an address with an account: asked to sign in, then to connect the provider from the account page", async ({ page, browser }) => {
  const email = uniqueEmail("oidc-existing");
  await signUp(page, email);

  const other = await (await browser.newContext()).newPage();
  await other.goto("/login?next=/account");
  await other.getByRole("button", { name: "Sign in with Test ID" }).click();
  await atProvider(other, email);
  // Not signed in, and nothing linked: told to sign in, then connect it.
  await expect(other).toHaveURL(/\/login/);
  await expect(other.getByRole("status")).toContainText("already exists");
  await waitForHydration(other);
  await signIn(other, email);
  await expect(other.getByTestId("viewer-email")).toHaveText(email);
  await other.goto("/account");
  const section = other.getByTestId("connected-accounts");
  await expect(other.getByTestId("connected-account")).toHaveCount(0);
  // Connecting asks the provider to sign in again, though this browser is signed in there.
  await section.getByRole("button", { name: "Connect Test ID" }).click();
  await atProvider(other, email);
  await expect(other).toHaveURL(/\/account$/);
  await expect(other.getByTestId("connected-account")).toContainText("Test ID");

  // From now on the provider signs in to that account.
  const third = await (await browser.newContext()).newPage();
  await third.goto("/login?next=/devices");
  await third.getByRole("button", { name: "Sign in with Test ID" }).click();
  await atProvider(third, email);
  await expect(third).toHaveURL(/\/devices$/);
  await expect(third.getByTestId("viewer-email")).toHaveText(email);
  await other.context().close();
  await third.context().close();
});

test("connecting a provider from the account page asks to confirm it is you", async ({ page }) => {
  const email = uniqueEmail("oidc-link");
  await signUp(page, email, sudoServer);
  await untilSudoEnds(page, sudoServer);
  await page.goto(`${sudoServer}/account`);
  const section = page.getByTestId("connected-accounts");
  await expect(section.getByRole("button", { name: "Connect Test ID" })).toBeVisible();
  await section.getByLabel("Your password").fill(PASSWORD);
  await section.getByRole("button", { name: "Connect Test ID" }).click();
  await atProvider(page, `elsewhere-${email}`);
  await expect(page).toHaveURL(`${sudoServer}/account`);
  await expect(page.getByTestId("account-notice")).toContainText("Test ID is now connected");
  await expect(page.getByTestId("connected-account")).toContainText(`elsewhere-${email}`);
});

test("an account without a password confirms it is you by signing in again at the provider", async ({ page }) => {
  const email = uniqueEmail("oidc-sudo");
  await page.goto(`${sudoServer}/login?next=/account`);
  await page.getByRole("button", { name: "Sign in with Test ID" }).click();
  await atProvider(page, email);
  await expect(page).toHaveURL(`${sudoServer}/account`);
  await untilSudoEnds(page, sudoServer);
  await page.goto(`${sudoServer}/account`);
  await waitForHydration(page);

  const danger = page.locator("#delete");
  // No password to type: the provider is the way to confirm.
  await expect(danger.getByLabel("Your password")).toHaveCount(0);
  await danger.getByRole("button", { name: "Or confirm by signing in again with Test ID" }).click();
  // The provider asks again (prompt=login), though this browser is signed in there.
  await atProvider(page, email);
  await expect(page).toHaveURL(`${sudoServer}/account`);
  await expect(page.getByTestId("account-notice")).toContainText("confirmed it is you");
  await waitForHydration(page);
  await danger.getByLabel("I understand").check();
  await danger.getByRole("button", { name: "Delete my account" }).click();
  await expect(page).toHaveURL(/\/login/);
});

test("a provider's refusal ends on the login page with a plain message", async ({ page }) => {
  await page.goto("/auth/oidc/test/callback?error=access_denied&state=nothing-we-sent");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("status")).toHaveText("Signing in with that provider did not work. Please try again.");
});

const GROUPS = {
  en: { nav: "Account settings", groups: ["Profile and e-mail", "Security", "Delete account"] },
  de: { nav: "Kontoeinstellungen", groups: ["Profil und E-Mail", "Sicherheit", "Konto löschen"] },
};

for (const width of [375, 1280]) {
  test(`the account settings line up and pass axe at ${width}px, in English and German, light and dark`, async ({ page, baseURL }) => {
    await page.setViewportSize({ width, height: 900 });
    await signUp(page, uniqueEmail(`settings-${width}`));
    for (const language of ["en", "de"] as const) {
      await page.context().addCookies([{ name: "language", value: language, url: baseURL! }]);
      await page.goto("/account");
      const cards = page.locator(".settings-card");
      await expect(cards.first()).toBeVisible();
      await expect(page.getByTestId("connected-accounts")).toBeVisible();
      const boxes = await cards.evaluateAll((all) => all.map((el) => el.getBoundingClientRect().toJSON()));
      expect(boxes.length).toBeGreaterThanOrEqual(6);
      // One width for every card, inside the viewport.
      for (const box of boxes) {
        expect(Math.abs(box.width - boxes[0].width)).toBeLessThan(1);
        expect(Math.abs(box.x - boxes[0].x)).toBeLessThan(1);
        expect(box.x + box.width).toBeLessThanOrEqual(width);
      }
      // Nothing inside a card touches the next one: each ends before the next begins,
      // with room between them.
      for (let i = 1; i < boxes.length; i++) {
        expect(boxes[i].y - (boxes[i - 1].y + boxes[i - 1].height)).toBeGreaterThanOrEqual(12);
      }
      // The groups, in order, reachable from the page's own navigation.
      const { nav, groups } = GROUPS[language];
      await expect(page.getByRole("navigation", { name: nav }).getByRole("link")).toHaveText(groups);
      await expect(page.getByRole("heading", { level: 2 })).toHaveText(groups);
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await audit(page, `/account in ${language}, ${scheme}, ${width}px`);
      }
    }
  });
}
