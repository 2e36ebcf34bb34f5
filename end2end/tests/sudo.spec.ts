import { test, expect } from "@playwright/test";
import { PASSWORD, signUp, uniqueEmail, untilSudoEnds, waitForHydration } from "./helpers";

// Sudo mode ("confirm it is you") against the server with an 8-second SUDO_WINDOW.
test.describe("sudo mode", () => {
  const sudo = process.env.E2E_SUDO_URL!;

  test("after the window, a sensitive form asks for the password in place, then completes", async ({ page }) => {
    const email = uniqueEmail("sudo");
    await signUp(page, email, sudo);
    await page.goto(`${sudo}/account`);
    await waitForHydration(page);
    const form = page.locator("form").filter({ has: page.getByRole("button", { name: "Change password" }) });
    await expect(form.getByTestId("sudo-fields")).toHaveCount(0);

    await untilSudoEnds(page, sudo);
    await form.getByLabel("New password").fill("a brand new passphrase");
    await form.getByRole("button", { name: "Change password" }).click();
    await expect(form.getByRole("alert")).toHaveText("Please confirm it is you to continue.");
    await expect(form.getByTestId("sudo-fields")).toBeVisible();
    await form.getByLabel("Your password").fill(PASSWORD);
    await form.getByRole("button", { name: "Change password" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Your password was changed" })).toBeVisible();
  });

  test("without JavaScript the page asks before the form is sent", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const email = uniqueEmail("sudo-nojs");
    await page.goto(`${sudo}/signup`);
    await page.getByLabel("E-mail address").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByTestId("viewer-email")).toHaveText(email);
    await untilSudoEnds(page, sudo);
    await page.goto(`${sudo}/devices`);
    await page.goto(`${sudo}/account`);
    const form = page.locator("form").filter({ has: page.getByRole("button", { name: "Change password" }) });
    await expect(form.getByTestId("sudo-fields")).toBeVisible();
    await form.getByLabel("Your password").fill(PASSWORD);
    await form.getByLabel("New password").fill("set without javascript");
    await form.getByRole("button", { name: "Change password" }).click();
    await expect(page).toHaveURL(/password_changed=0/);
    await context.close();
  });
});
