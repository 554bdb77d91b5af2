import { expect, Page, test } from "@playwright/test";

const PASSWORD = "correct horse battery staple";

/** Opens a page and waits until the WebAssembly has hydrated it. */
async function open(page: Page, path: string) {
  const url = path.startsWith("http") ? path : `${process.env.PORTICO_URL}${path}`;
  await page.goto(url);
  await page.locator("main[data-hydrated]").waitFor();
}

async function signIn(page: Page, email: string, password: string) {
  await open(page, "/signin");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test.describe.serial("Portico in the browser", () => {
  test("the setup link creates the organization, and its admin gives a member an app", async ({ page }) => {
    await open(page, process.env.PORTICO_SETUP_LINK!);
    await page.getByLabel("Name", { exact: true }).fill("Contoso");
    await page.getByLabel("Primary domain").fill("contoso.example");
    await page.getByLabel("Your name").fill("Ada Admin");
    await page.getByLabel("Email address").fill("ada@contoso.example");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create organization" }).click();
    await expect(page).toHaveURL(/\/admin\/users$/);
    await expect(page.getByRole("link", { name: "Ada Admin" })).toBeVisible();

    // A member.
    await page.getByLabel("Display name").fill("Mia Member");
    await page.getByLabel("Email address").fill("mia@contoso.example");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create member" }).click();
    await expect(page.getByRole("link", { name: "Mia Member" })).toBeVisible();

    // A group with the member in it.
    await page.getByRole("link", { name: "Groups", exact: true }).click();
    await page.getByLabel("Name", { exact: true }).fill("Engineering");
    await page.getByRole("button", { name: "Create group" }).click();
    await page.getByRole("link", { name: "Engineering" }).click();
    await page.getByLabel("Add member (email address)").fill("mia@contoso.example");
    await page.locator("form", { has: page.getByLabel("Add member (email address)") }).getByRole("button", { name: "Add" }).click();
    await expect(page.getByRole("link", { name: "Mia Member" })).toBeVisible();

    // An app, assigned to the group.
    await page.getByRole("link", { name: "Apps", exact: true }).click();
    await page.getByLabel("Name", { exact: true }).fill("Wiki");
    await page.getByLabel("Description").fill("Team knowledge");
    await page.getByLabel("Launch address").fill("https://wiki.contoso.example/");
    await page.getByRole("button", { name: "Add app" }).click();
    await page.getByRole("link", { name: "Wiki" }).click();
    await page.getByLabel("Assign a group").selectOption({ label: "Engineering" });
    await page.locator("form", { has: page.getByLabel("Assign a group") }).getByRole("button", { name: "Assign" }).click();
    await expect(page.getByRole("link", { name: "Engineering" })).toBeVisible();

    // Every change is in the audit log.
    await page.getByRole("link", { name: "Audit log" }).click();
    await expect(page.getByRole("cell", { name: "Add app role assignment" })).toBeVisible();

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/signin$/);
  });

  test("a wrong password says so and signs nobody in", async ({ page }) => {
    await signIn(page, "mia@contoso.example", "not the password");
    await expect(page.getByRole("alert")).toHaveText("The email address or password is not right.");
    await expect(page.getByRole("button", { name: "Sign out" })).toHaveCount(0);
  });

  test("the member signs in, sees the app tile, and signs out", async ({ page }) => {
    await signIn(page, "mia@contoso.example", PASSWORD);
    await expect(page).toHaveURL(/\/$/);
    const tile = page.getByRole("link", { name: /Wiki/ });
    await expect(tile).toBeVisible();
    await expect(tile).toHaveAttribute("href", "https://wiki.contoso.example/");
    await expect(page.getByText("Engineering")).toBeVisible();
    await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);

    await open(page, "/admin/users");
    await expect(page.getByRole("heading", { name: "Not for you" })).toBeVisible();

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/signin$/);
    await open(page, "/");
    await expect(page).toHaveURL(/\/signin$/);
  });

  test("signing in works without JavaScript", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${process.env.PORTICO_URL}/signin`);
    await page.getByLabel("Email address").fill("mia@contoso.example");
    await page.getByLabel("Password", { exact: true }).fill("wrong password here");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("The email address or password is not right.");
    await page.getByLabel("Email address").fill("mia@contoso.example");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("link", { name: /Wiki/ })).toBeVisible();
    await context.close();
  });
});
