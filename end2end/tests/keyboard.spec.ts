import { test, expect, type Locator, type Page } from "@playwright/test";
import { PASSWORD, ownClientAddress, signIn, uniqueEmail, waitForHydration } from "./helpers";

// The main flows with the keyboard alone: the test moves with Tab, acts with Enter and
// types into fields, nothing else. Every control focus lands on must show it.

const FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

/** Presses Tab until `target` has focus, checking on the way that focus is visible. */
async function tabTo(page: Page, target: Locator): Promise<void> {
  for (let presses = 0; presses < 60; presses++) {
    await page.keyboard.press("Tab");
    const visible = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return true;
      const style = getComputedStyle(el);
      return (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none";
    });
    expect(visible, "the focused control shows a focus ring").toBe(true);
    if (await target.evaluate((el) => el === document.activeElement)) return;
  }
  throw new Error(`Tab never reached ${target}`);
}

async function typeInto(page: Page, field: Locator, text: string): Promise<void> {
  await tabTo(page, field);
  await page.keyboard.type(text);
}

test("sign up, change the password, sign out and sign in with the keyboard alone", async ({ page }) => {
  await ownClientAddress(page);
  const email = uniqueEmail("keyboard");
  await page.goto("/signup");
  await waitForHydration(page);
  await typeInto(page, page.getByLabel("E-mail address"), email);
  await typeInto(page, page.getByLabel("Password"), PASSWORD);
  await tabTo(page, page.getByRole("button", { name: "Create account" }));
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("viewer-email")).toHaveText(email);

  // Changing the password: focus moves to the confirmation.
  await page.goto("/account");
  await waitForHydration(page);
  await typeInto(page, page.getByLabel("New password"), "a keyboard-only passphrase");
  await tabTo(page, page.getByRole("button", { name: "Change password" }));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("status").filter({ hasText: "Your password was changed" })).toBeFocused();

  await tabTo(page, page.getByRole("button", { name: "Sign out" }));
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/login$/);
  await waitForHydration(page);

  // A wrong password: focus moves to the error, which both fields point at.
  await typeInto(page, page.getByLabel("E-mail address"), email);
  await typeInto(page, page.getByLabel("Password"), PASSWORD);
  await tabTo(page, page.getByRole("button", { name: "Sign in", exact: true }));
  await page.keyboard.press("Enter");
  const error = page.getByRole("alert");
  await expect(error).toHaveText("Wrong e-mail address or password.");
  await expect(error).toBeFocused();
  await expect(page.getByLabel("E-mail address")).toHaveAttribute("aria-describedby", "login-error");
  await expect(page.getByLabel("Password")).toHaveAttribute("aria-describedby", "login-error");
  await expect(error).toHaveAttribute("id", "login-error");

  // The new password signs in.
  await page.goto("/login");
  await waitForHydration(page);
  await typeInto(page, page.getByLabel("E-mail address"), email);
  await typeInto(page, page.getByLabel("Password"), "a keyboard-only passphrase");
  await tabTo(page, page.getByRole("button", { name: "Sign in", exact: true }));
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("viewer-email")).toHaveText(email);
});

test("sign another device out, with its confirmation, with the keyboard alone", async ({ page, browser }) => {
  const email = uniqueEmail("keyboard-devices");
  await page.goto("/signup");
  await waitForHydration(page);
  await typeInto(page, page.getByLabel("E-mail address"), email);
  await typeInto(page, page.getByLabel("Password"), PASSWORD);
  await tabTo(page, page.getByRole("button", { name: "Create account" }));
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("viewer-email")).toHaveText(email);

  const other = await (await browser.newContext({ userAgent: FIREFOX_WINDOWS })).newPage();
  await other.goto("/login");
  await waitForHydration(other);
  await signIn(other, email);
  await expect(other.getByTestId("viewer-email")).toHaveText(email);

  await page.goto("/devices");
  await waitForHydration(page);
  await expect(page.getByTestId("device")).toHaveCount(2);
  await tabTo(page, page.getByRole("link", { name: /^Sign out Firefox/ }));
  await page.keyboard.press("Enter");
  const confirm = page.getByRole("button", { name: "Yes, sign it out" });
  await expect(confirm).toBeVisible();
  await tabTo(page, confirm);
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("device")).toHaveCount(1);
});
