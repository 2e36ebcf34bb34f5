import { test, expect } from "@playwright/test";
import { PASSWORD, ownClientAddress, signIn, signUp, uniqueEmail, waitForHydration } from "./helpers";

test.describe("accounts", () => {
  test("sign up, sign out and sign in again", async ({ page }) => {
    const email = uniqueEmail("cycle");
    await signUp(page, email);
    await expect(page).toHaveURL(/\/$/);

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByRole("status")).toHaveText("You have signed out.");
    await expect(page.getByTestId("viewer-email")).toHaveCount(0);

    await waitForHydration(page);
    await signIn(page, email);
    await expect(page.getByTestId("viewer-email")).toHaveText(email);
  });

  test("a wrong password gets an inline message, without a page reload", async ({ page }) => {
    await ownClientAddress(page);
    const email = uniqueEmail("wrong");
    await signUp(page, email);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await waitForHydration(page);

    let loads = 0;
    page.on("load", () => loads++);
    await signIn(page, email, "not the password");
    await expect(page.getByRole("alert")).toHaveText("Wrong e-mail address or password.");
    expect(loads).toBe(0);
    expect(page.url()).not.toContain("__err");
  });

  test("an unknown e-mail gets exactly the same message", async ({ page }) => {
    await ownClientAddress(page);
    await page.goto("/login");
    await waitForHydration(page);
    await signIn(page, uniqueEmail("nobody"));
    await expect(page.getByRole("alert")).toHaveText("Wrong e-mail address or password.");
  });

  test("a protected page sends a visitor to login and back afterwards", async ({ page }) => {
    const email = uniqueEmail("next");
    await signUp(page, email);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);

    await page.goto("/account");
    await expect(page).toHaveURL(/\/login\?next=\/account$/);
    await waitForHydration(page);
    await signIn(page, email);
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  });

  test("an off-site next is ignored after login", async ({ page }) => {
    const email = uniqueEmail("redirect");
    await signUp(page, email);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    for (const next of ["//evil.example/", "https://evil.example/"]) {
      await page.goto(`/login?next=${encodeURIComponent(next)}`);
      await waitForHydration(page);
      await signIn(page, email);
      await expect(page.getByTestId("viewer-email")).toHaveText(email);
      expect(new URL(page.url()).host).toBe(new URL(page.url()).host);
      expect(page.url()).not.toContain("evil.example");
      await page.getByRole("button", { name: "Sign out" }).click();
      await expect(page).toHaveURL(/\/login/);
    }
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("sign-up, a wrong password and sign-in work as plain forms", async ({ page }) => {
    await ownClientAddress(page);
    const email = uniqueEmail("nojs");
    await page.goto("/signup?next=/account");
    await page.getByLabel("E-mail address").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId("viewer-email")).toHaveText(email);

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);

    await signIn(page, email, "not the password");
    await expect(page.getByRole("alert")).toHaveText("Wrong e-mail address or password.");
    await signIn(page, email);
    await expect(page.getByTestId("viewer-email")).toHaveText(email);
  });
});
