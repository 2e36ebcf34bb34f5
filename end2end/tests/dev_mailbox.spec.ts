import { test, expect } from "@playwright/test";
import { signUp, uniqueEmail, waitForHydration } from "./helpers";

// The development mailbox of the server without SMTP_URL (the short-lived-token one).
test.describe("development mailbox", () => {
  test("without SMTP_URL, mail waits in the development mailbox with clickable links", async ({ page }) => {
    const base = process.env.E2E_SHORT_TTL_URL!;
    const email = uniqueEmail("devbox");
    await signUp(page, email, base);
    await page.goto(`${base}/dev/mailbox`);
    await page.getByRole("listitem").filter({ hasText: email }).getByRole("link", { name: "Confirm your e-mail address" }).click();
    await expect(page.getByTestId("mail-text")).toContainText(email);
    await page.getByTestId("mail-text").getByRole("link").first().click();
    await expect(page).toHaveURL(/\/verify-email$/);
    await waitForHydration(page);
    await page.getByRole("button", { name: "Confirm my address" }).click();
    await expect(page.getByTestId("link-done")).toContainText("is confirmed");
  });
});
