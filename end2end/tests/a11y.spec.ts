import { test, expect } from "@playwright/test";
import { PASSWORD, audit, ownClientAddress, signIn, signUp, uniqueEmail, untilSudoEnds, waitForHydration } from "./helpers";

// axe-core (WCAG 2.1 A and AA rules) on every page, signed out and signed in, in light
// and dark colour schemes, at phone and desktop widths. Any serious or critical
// violation fails the test, naming the rule and the elements.
const SIGNED_OUT = ["/", "/login", "/signup", "/forgot", "/sign-in-code", "/reset", "/reset-review", "/verify-email", "/confirm-email"];
const SIGNED_IN = ["/", "/account", "/devices", "/activity"];


for (const scheme of ["light", "dark"] as const) {
  for (const width of [375, 1280]) {
    test(`pages pass axe in ${scheme} mode at ${width}px`, async ({ page }) => {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height: 900 });
      for (const path of SIGNED_OUT) {
        await page.goto(path);
        await audit(page, `${path} signed out, ${scheme}, ${width}px`);
      }
      await signUp(page, uniqueEmail(`a11y-${scheme}-${width}`));
      for (const path of SIGNED_IN) {
        await page.goto(path);
        await audit(page, `${path} signed in, ${scheme}, ${width}px`);
      }
    });
  }
}

test("the signed-in header is one row at 1280px, with a long address shortened but whole", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  const email = `a-rather-long-address-for-the-header-${Date.now()}@subdomain.example.com`;
  await signUp(page, email);
  const brand = await page.locator(".brand").boundingBox();
  const nav = await page.getByRole("navigation", { name: "Main" }).boundingBox();
  // One row: the navigation sits beside the brand, not below it.
  expect(nav!.y).toBeLessThan(brand!.y + brand!.height);
  expect(nav!.x).toBeGreaterThan(brand!.x + brand!.width);
  const viewer = page.getByTestId("viewer-email");
  // Shortened on screen, whole for screen readers (its text) and on hover (its title).
  await expect(viewer).toHaveText(email);
  await expect(viewer).toHaveAttribute("title", email);
  expect(await viewer.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
  // Focus unfolds it.
  await viewer.focus();
  expect(await viewer.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
});

// The states a form can show (an error, a success, a confirmation step) are audited too.
for (const scheme of ["light", "dark"] as const) {
  test(`form states pass axe in ${scheme} mode`, async ({ page, browser }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await ownClientAddress(page);
    const email = uniqueEmail(`a11y-states-${scheme}`);

    // Errors: a taken address on /signup, a wrong password on /login.
    await signUp(page, email);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/signup");
    await waitForHydration(page);
    await page.getByLabel("E-mail address").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("alert")).toBeVisible();
    await audit(page, `/signup with an error, ${scheme}`);
    await page.goto("/login");
    await waitForHydration(page);
    await signIn(page, email, "not the password");
    await expect(page.getByRole("alert")).toBeVisible();
    await audit(page, `/login with an error, ${scheme}`);

    // A success: the forgotten-password request.
    await page.goto("/forgot");
    await waitForHydration(page);
    await page.getByLabel("E-mail address").fill(email);
    await page.getByRole("button", { name: "Send me a link" }).click();
    await expect(page.getByTestId("forgot-sent")).toBeVisible();
    await audit(page, `/forgot sent, ${scheme}`);

    // Signed in: a success on /account, and the confirmation step of signing a device out.
    await page.goto("/login");
    await waitForHydration(page);
    await signIn(page, email);
    await expect(page.getByTestId("viewer-email")).toHaveText(email);
    const other = await (await browser.newContext()).newPage();
    await other.goto("/login");
    await waitForHydration(other);
    await signIn(other, email);
    await expect(other.getByTestId("viewer-email")).toHaveText(email);
    await page.goto("/devices");
    await waitForHydration(page);
    await expect(page.getByTestId("device")).toHaveCount(2);
    await page.getByTestId("device").nth(1).getByRole("link", { name: /^Sign out/ }).click();
    await expect(page.getByRole("button", { name: "Yes, sign it out" })).toBeVisible();
    await audit(page, `/devices confirming a sign-out, ${scheme}`);
    await page.goto("/account");
    await waitForHydration(page);
    await page.getByLabel("New password").fill("another long passphrase");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Your password was changed" })).toBeVisible();
    await audit(page, `/account after a password change, ${scheme}`);
  });
}

// The "confirm it is you" fields appear in every sensitive form once the sudo window
// (8 seconds on this server) has passed; audited as shown, and with their error.
for (const scheme of ["light", "dark"] as const) {
  test(`sudo fields pass axe in ${scheme} mode`, async ({ page }) => {
    const sudo = process.env.E2E_SUDO_URL!;
    await page.emulateMedia({ colorScheme: scheme });
    await signUp(page, uniqueEmail(`a11y-sudo-${scheme}`), sudo);
    await untilSudoEnds(page, sudo);
    await page.goto(`${sudo}/account`);
    await waitForHydration(page);
    await expect(page.getByTestId("sudo-fields").first()).toBeVisible();
    await audit(page, `/account asking for a proof, ${scheme}`);
    const form = page.locator("form").filter({ has: page.getByRole("button", { name: "Change password" }) });
    await form.getByLabel("New password").fill("another long passphrase");
    await form.getByRole("button", { name: "Change password" }).click();
    await expect(form.getByRole("alert")).toBeVisible();
    await audit(page, `/account with a sudo error, ${scheme}`);
  });
}
