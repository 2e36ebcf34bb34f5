import { test, expect } from "@playwright/test";
import { signUp, uniqueEmail, untilAccessTokenExpires, waitForHydration } from "./helpers";

// These run against the second server: access tokens live 2 s, the refresh grace is 1 s.
// Verification allows 5 s of clock skew, so a token is refused 7 s after it was issued;
// the tests wait until the server says so.
const short = process.env.E2E_SHORT_TTL_URL!;

test.describe("sessions with short-lived access tokens", () => {
  test("a user stays signed in across access-token expiry, on page loads and server calls", async ({ page }) => {
    const email = uniqueEmail("stay");
    await signUp(page, email, short);
    await page.goto(`${short}/account`);
    await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();

    // Past the access token's life: a full page load still lands on the page, signed in.
    await untilAccessTokenExpires(page, short);
    let refreshed = page.waitForResponse((r) => r.url().endsWith("/api/auth/refresh") && r.status() === 200);
    await page.goto(`${short}/account`);
    await refreshed;
    await expect(page).toHaveURL(`${short}/account`);
    await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
    await expect(page.getByTestId("viewer-email")).toHaveText(email);

    // Past it again: a server function called from the hydrated page refreshes and retries
    // (the devices page's "Check my session").
    await page.goto(`${short}/devices`);
    await waitForHydration(page);
    await untilAccessTokenExpires(page, short);
    refreshed = page.waitForResponse((r) => r.url().endsWith("/api/auth/refresh") && r.status() === 200);
    await page.getByRole("button", { name: "Check my session" }).click();
    await refreshed;
    await expect(page.getByTestId("session-check")).toContainText(email);
    await expect(page.getByRole("alert")).toHaveCount(0);
  });

  test("replaying an old refresh cookie from another browser signs both out", async ({ browser }) => {
    const victim = await browser.newContext();
    const page = await victim.newPage();
    const email = uniqueEmail("theft");
    await signUp(page, email, short);
    const stolen = await victim.cookies();
    // The two session cookies, and the device cookie a right password earns (OWASP).
    expect(stolen.map((c) => c.name).sort()).toEqual(["__Host-access", "__Secure-device", "__Secure-refresh"]);

    // The victim keeps using the app: the access token expires and the refresh token rotates.
    await untilAccessTokenExpires(page, short);
    const rotated = page.waitForResponse((r) => r.url().endsWith("/api/auth/refresh") && r.status() === 200);
    await page.goto(`${short}/account`);
    await rotated;
    await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
    // Past the 1 s grace window: only time shows it (a replay inside it would be the test).
    await page.waitForTimeout(1_500);

    // The thief replays the stolen (already used) cookies from another browser.
    const thief = await browser.newContext({ userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0" });
    await thief.addCookies(stolen);
    const thiefPage = await thief.newPage();
    const refused = thiefPage.waitForResponse((r) => r.url().endsWith("/api/auth/refresh") && r.status() === 401);
    await thiefPage.goto(`${short}/account`);
    await refused;
    await expect(thiefPage).toHaveURL(/\/login\?next=%2Faccount|\/login\?next=\/account/);
    await expect(thiefPage.getByTestId("viewer-email")).toHaveCount(0);

    // The victim's next request is refused too: the whole session was revoked.
    await page.goto(`${short}/account`);
    await expect(page).toHaveURL(/\/login\?next=\/account/);
    await expect(page.getByTestId("viewer-email")).toHaveCount(0);
    await expect(page.getByRole("status")).toHaveText(/signed out|session has ended/);

    await victim.close();
    await thief.close();
  });
});
