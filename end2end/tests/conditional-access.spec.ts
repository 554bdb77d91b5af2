// Conditional access in the browser: an administrator makes a policy in the console's form
// ("Guests need MFA for the Wiki"), a passcode guest who opens the Wiki from the access
// panel is sent to the step-up page, sets up an authenticator app there (its codes computed
// here, RFC 6238) and lands in the Wiki signed in; switched to report-only, the policy lets
// another guest in unasked and the sign-in log says what it would have done. Terms of use
// written in the console are asked for once per version. The Wiki is the
// example app that signs in with Portico (examples/rp). This file runs a Portico of its own
// (its own data folder and free port); mail goes to the run's SMTP server (global-setup.ts).
import { BrowserContext, expect, Page } from "@playwright/test";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { countMail, mailTo } from "./mailbox";
import { freePort, waitForPort } from "../net";
import { PASSWORD, expectAccessibleBasics, test } from "./own-portico";

const POLICY = "Guests need MFA for the Wiki";
const CONDITIONAL_ACCESS = "/admin/security/conditional-access";

/** The bytes of base32 text (spaces ignored), as authenticator apps read a key. */
function base32(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const out: number[] = [];
  let [buffer, bits] = [0, 0];
  for (const c of text.replace(/\s/g, "")) {
    const value = alphabet.indexOf(c);
    if (value < 0) throw new Error(`not base32: ${c}`);
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The code an authenticator app with `secret` (base32) shows at `time` (Unix seconds):
 * RFC 6238 with HMAC-SHA1, 30-second steps, 6 digits (as integration/tests/http/second_factors.rs). */
function totp(secret: string, time = Date.now() / 1000): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(time / 30)));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const at = mac[19] & 0x0f;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** This file's Portico, its Wiki (the example app) and the Wiki's client. */
const portico = { url: "", data: "", wiki: "", tenant: "woodgrove.example", clientId: "", clientSecret: "" };
const running: ChildProcess[] = [];

function cli(args: string[], input = ""): string {
  return execFileSync(process.env.PORTICO_BIN!, ["--data-dir", portico.data, ...args], { input }).toString();
}


/** Opens a page and waits until the WebAssembly has hydrated it. */
async function open(page: Page, where: string) {
  await page.goto(where.startsWith("http") ? where : `${portico.url}${where}`);
  await page.locator("main[data-hydrated]").waitFor();
}

async function signInAsAda(page: Page) {
  await open(page, "/signin");
  await page.getByLabel("Email address").fill("ada@woodgrove.example");
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(`${portico.url}/`);
}

/**
 * Ada invites `email` from the console and gives them the Wiki; the guest proves their
 * address with the mailed code and accepts, in a browser of their own, and is on their
 * access panel signed in with that passcode only.
 */
async function inviteAndAccept(admin: Page, guest: Page, email: string, name: string) {
  await open(admin, "/admin/invitations");
  await admin.getByLabel("Email address").fill(email);
  await admin.getByLabel("Display name").fill(name);
  await admin.getByRole("button", { name: "Invite", exact: true }).click();
  const link = await admin.getByLabel("Invitation link").inputValue();
  cli(["app", "assign", "--tenant", portico.tenant, "--app", "Wiki", "--user", email]);

  await open(guest, link);
  await expect(guest.getByRole("heading", { name: "Woodgrove invites you" })).toBeVisible();
  const codesBefore = countMail(email, /verification code/);
  await guest.getByRole("button", { name: "Continue" }).click();
  await expect(guest).toHaveURL(/\/redeem\/code$/);
  const code = (await mailTo(email, /verification code/, codesBefore)).text.match(/\b(\d{8})\b/)![1];
  await guest.getByLabel("Code").fill(code);
  await guest.getByRole("button", { name: "Continue" }).click();
  await expect(guest.getByRole("heading", { name: "Review permissions" })).toBeVisible();
  await guest.locator("main[data-hydrated]").waitFor();
  await guest.getByRole("button", { name: "Accept" }).click();
  await expect(guest).toHaveURL(`${portico.url}/`);
  await expect(guest.getByRole("heading", { name: "Your contacts at Woodgrove" })).toBeVisible();
}

/** Opens the Wiki from the access panel's tile: the tab it opens. */
async function openWikiFromPanel(guest: Page): Promise<Page> {
  const tile = guest.getByRole("link", { name: /Wiki/ });
  await expect(tile).toHaveAttribute("href", `${portico.wiki}/`);
  const [tab] = await Promise.all([guest.context().waitForEvent("page"), tile.click()]);
  return tab;
}

/** The claims of the ID token the Wiki gets for the person signed in in `context`. */
async function wikiIdTokenClaims(context: BrowserContext): Promise<Record<string, unknown>> {
  const verifier = "a-pkce-verifier-that-is-long-enough-0123456789abcdef";
  const callback = `${portico.wiki}/callback`;
  const asked = new URLSearchParams({
    client_id: portico.clientId, redirect_uri: callback, response_type: "code", scope: "openid profile email",
    nonce: "n-1", state: "s-1", code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256",
  });
  const authorized = await context.request.get(`${portico.url}/${portico.tenant}/oauth2/v2.0/authorize?${asked}`, { maxRedirects: 0 });
  expect(authorized.status()).toBe(303);
  const location = new URL(authorized.headers()["location"]);
  expect(`${location.origin}${location.pathname}`).toBe(callback);
  const tokens = await (await fetch(`${portico.url}/${portico.tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`${portico.clientId}:${portico.clientSecret}`).toString("base64")}` },
    body: new URLSearchParams({ grant_type: "authorization_code", code: location.searchParams.get("code")!, redirect_uri: callback, code_verifier: verifier }),
  })).json();
  return JSON.parse(Buffer.from(tokens.id_token.split(".")[1], "base64url").toString());
}

test("the test's own TOTP matches RFC 6238", () => {
  // Appendix B's secret, "12345678901234567890", in base32; the last six of its digits.
  const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
  expect(totp(secret, 59)).toBe("287082");
  expect(totp(secret, 1_111_111_109)).toBe("081804");
  expect(totp(secret, 20_000_000_000)).toBe("353130");
});

test.describe.serial("Conditional access", () => {
  test.beforeAll(async () => {
    portico.data = mkdtempSync(path.join(tmpdir(), "portico-ca-"));
    const port = await freePort();
    portico.url = `http://127.0.0.1:${port}`;
    running.push(spawn(
      process.env.PORTICO_BIN!,
      [
        "--data-dir", portico.data, "--log-level", "warn", "serve", "--listen", `127.0.0.1:${port}`, "--public-url", portico.url,
        "--site-root", process.env.PORTICO_SITE_ROOT!, "--smtp-host", "127.0.0.1", "--smtp-port", process.env.PORTICO_SMTP_PORT!,
        "--smtp-tls", "none", "--mail-retry-seconds", "1",
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    ));
    await waitForPort(port);
    cli(["tenant", "create", "--name", "Woodgrove", "--domain", portico.tenant]);
    cli(["user", "create", "--tenant", portico.tenant, "--email", "ada@woodgrove.example", "--name", "Ada Admin", "--role", "global-administrator"], `${PASSWORD}\n`);

    // The Wiki signs in with Portico.
    const wikiPort = await freePort();
    portico.wiki = `http://127.0.0.1:${wikiPort}`;
    cli(["app", "create", "--tenant", portico.tenant, "--name", "Wiki", "--launch-url", `${portico.wiki}/`, "--description", "Team knowledge"]);
    cli(["app", "sign-in", "--tenant", portico.tenant, "--app", "Wiki", "--redirect-uri", `${portico.wiki}/callback`]);
    const client = JSON.parse(cli(["app", "secret", "--tenant", portico.tenant, "--app", "Wiki", "--json"]));
    [portico.clientId, portico.clientSecret] = [client.client_id, client.client_secret];
    const discovery = await (await fetch(`${portico.url}/${portico.tenant}/v2.0/.well-known/openid-configuration`)).json();
    running.push(spawn(process.env.PORTICO_RP_BIN!, [], {
      env: { ...process.env, RP_LISTEN: `127.0.0.1:${wikiPort}`, RP_ISSUER: discovery.issuer, RP_CLIENT_ID: portico.clientId, RP_CLIENT_SECRET: portico.clientSecret },
      stdio: ["ignore", "ignore", "inherit"],
    }));
    await waitForPort(wikiPort);
  });

  test.afterAll(() => {
    for (const child of running) child.kill("SIGTERM");
    if (portico.data) rmSync(portico.data, { recursive: true, force: true });
  });

  test("an administrator makes the policy in the console's form; a refused form keeps every choice", async ({ newPage }) => {
    const ada = await newPage();
    await signInAsAda(ada);
    await open(ada, "/admin/users");
    await ada.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Conditional access" }).click();
    await expect(ada).toHaveURL(`${portico.url}${CONDITIONAL_ACCESS}`);
    await expect(ada.getByRole("heading", { name: "Conditional access", level: 1 })).toBeVisible();
    await expect(ada.getByText("No policies yet")).toBeVisible();
    await ada.locator("main[data-hydrated]").waitFor();
    await expectAccessibleBasics(ada);

    await ada.getByRole("link", { name: "New policy" }).click();
    await expect(ada).toHaveURL(`${portico.url}${CONDITIONAL_ACCESS}/new`);
    await expect(ada.getByRole("heading", { name: "New policy", level: 1 })).toBeVisible();
    await ada.locator("main[data-hydrated]").waitFor();
    await expectAccessibleBasics(ada);

    // A new policy starts report-only, for everyone, on all apps, asking a second factor.
    const state = ada.getByRole("group", { name: "State" });
    const users = ada.getByRole("group", { name: "Users", exact: true });
    const apps = ada.getByRole("group", { name: "Apps", exact: true });
    const grant = ada.getByRole("group", { name: "Grant" });
    await expect(state.getByLabel("Report-only: evaluated and logged, never enforced")).toBeChecked();
    await expect(users.getByLabel("Everyone (guests included)")).toBeChecked();
    await expect(apps.getByLabel("All apps, and Portico itself")).toBeChecked();
    await expect(grant.getByLabel("Allow, and require:")).toBeChecked();
    await expect(grant.getByLabel(/^A second factor/)).toBeChecked();

    // Ada types the name, clicks "On", moves from "Everyone" to "All guests" with the arrow
    // key, picks "Selected apps" and names the app, with a slip of the finger at first.
    await ada.getByLabel("Name", { exact: true }).click();
    await ada.keyboard.type(POLICY);
    await state.getByLabel("On: enforced").click();
    await users.getByLabel("Everyone (guests included)").focus();
    await ada.keyboard.press("ArrowDown");
    await expect(users.getByLabel("All guests and external users")).toBeChecked();
    await apps.getByLabel("Selected apps:").click();
    await apps.getByLabel("Apps (names, one a line)", { exact: true }).click();
    await ada.keyboard.type("Wikki");
    await ada.getByRole("button", { name: "Save the policy" }).click();

    // Refused: the error has the focus, says what is wrong, and every choice is as she left it.
    await expect(ada.getByRole("alert").filter({ hasText: "Please correct the fields marked below." })).toBeFocused();
    await expect(apps.locator("#field-include_apps-error")).toHaveText("There is no app named “Wikki”.");
    await expect(ada).toHaveURL(`${portico.url}${CONDITIONAL_ACCESS}/new`);
    await expect(ada.getByLabel("Name", { exact: true })).toHaveValue(POLICY);
    await expect(state.getByLabel("On: enforced")).toBeChecked();
    await expect(users.getByLabel("All guests and external users")).toBeChecked();
    await expect(apps.getByLabel("Selected apps:")).toBeChecked();
    await expect(apps.getByLabel("Apps (names, one a line)", { exact: true })).toHaveValue("Wikki");
    await expect(apps.getByLabel("Apps (names, one a line)", { exact: true })).toHaveAttribute("aria-invalid", "true");
    await expect(grant.getByLabel("Allow, and require:")).toBeChecked();
    await expect(grant.getByLabel(/^A second factor/)).toBeChecked();
    await expect(grant.getByLabel("A phishing-resistant second factor (a passkey)")).not.toBeChecked();
    await ada.locator("main[data-hydrated]").waitFor();
    await expectAccessibleBasics(ada);

    await apps.getByLabel("Apps (names, one a line)", { exact: true }).fill("Wiki");
    await ada.getByRole("button", { name: "Save the policy" }).click();
    await expect(ada).toHaveURL(`${portico.url}${CONDITIONAL_ACCESS}`);
    await expect(ada.getByRole("status").filter({ hasText: "Saved the policy" })).toHaveText(`Saved the policy “${POLICY}”.`);
    const row = ada.getByRole("row", { name: new RegExp(POLICY) });
    await expect(row.getByRole("cell")).toHaveText([POLICY, "On", "guests; 1 app; a second factor", /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/]);

    // Opened again, the form shows what was saved.
    await row.getByRole("link", { name: POLICY }).click();
    await expect(ada.getByRole("heading", { name: POLICY, level: 1 })).toBeVisible();
    await expect(state.getByLabel("On: enforced")).toBeChecked();
    await expect(users.getByLabel("All guests and external users")).toBeChecked();
    await expect(apps.getByLabel("Selected apps:")).toBeChecked();
    await expect(apps.getByLabel("Apps (names, one a line)", { exact: true })).toHaveValue("Wiki");
    await expect(grant.getByLabel(/^A second factor/)).toBeChecked();
    await ada.locator("main[data-hydrated]").waitFor();
    await expectAccessibleBasics(ada);
  });

  test("a passcode guest opening the Wiki from the access panel sets up an authenticator app at the step-up and lands in the Wiki signed in", async ({ newPage }) => {
    const ada = await newPage();
    await signInAsAda(ada);
    const pat = await newPage();
    await inviteAndAccept(ada, pat, "pat@ca-partner.example", "Pat Partner");

    // The Wiki sends Pat to Portico, whose policy wants a second factor she has not given.
    const wiki = await openWikiFromPanel(pat);
    await expect(wiki).toHaveURL(new RegExp(`^${portico.url}/account/verify\\?`));
    const asked = new URL(wiki.url());
    expect(asked.searchParams.get("policy")).toBe(POLICY);
    await expect(wiki.getByRole("heading", { name: "Confirm it is you", level: 1 })).toBeVisible();
    await expect(wiki.getByText(`Your organization's policy “${POLICY}” asks for a second factor.`)).toBeVisible();
    await expect(wiki.getByText("You have no second factor yet.")).toBeVisible();
    await wiki.locator("main[data-hydrated]").waitFor();
    await expectAccessibleBasics(wiki);

    // She sets up an app: the key is on the page, as a QR code and as text.
    await wiki.getByRole("button", { name: "Set up an authenticator app" }).click();
    const secret = (await wiki.locator("#totp-secret").textContent())!.trim();
    expect(secret.replace(/\s/g, "")).toMatch(/^[A-Z2-7]{32}$/);
    await expect(wiki.getByRole("img", { name: /QR code for your authenticator app/ }).locator("svg")).toBeVisible();
    await expect(wiki).toHaveURL(/\/account\/verify\?/);
    expect(new URL(wiki.url()).searchParams.get("policy")).toBe(POLICY);
    await wiki.locator("main[data-hydrated]").waitFor();
    // Still there once the WebAssembly has run (a hydrated page must not drop the SVG).
    await expect(wiki.getByRole("img", { name: /QR code for your authenticator app/ }).locator("svg")).toBeVisible();
    await expectAccessibleBasics(wiki);
    await wiki.getByLabel("Name (optional)").fill("Phone");
    await wiki.getByLabel("Code from the app").fill(totp(secret));
    await wiki.getByRole("button", { name: "Add the app and continue" }).click();

    // Her recovery codes are shown once; then on to the Wiki, signed in.
    await expect(wiki.getByText("Authenticator app added.")).toBeVisible();
    await expect(wiki.getByText("Your second factor is verified for this session.")).toBeVisible();
    await wiki.locator("main[data-hydrated]").waitFor();
    await expectAccessibleBasics(wiki);
    await wiki.getByRole("link", { name: "Continue", exact: true }).click();
    await expect(wiki.locator("#who")).toHaveText("Signed in as Pat Partner <pat@ca-partner.example> (guest)");
    expect(new URL(wiki.url()).origin).toBe(portico.wiki);

    // What the Wiki is told of how she signed in: a mailed code and an app's code.
    const claims = await wikiIdTokenClaims(pat.context());
    expect(claims.amr).toEqual(["otp", "mfa"]);
    expect(claims.acr).toBe("urn:portico:acr:mfa");

    // The next time, the Wiki opens at once.
    const again = await openWikiFromPanel(pat);
    await expect(again.locator("#who")).toHaveText("Signed in as Pat Partner <pat@ca-partner.example> (guest)");
  });

  test("switched to report-only, the policy lets a passcode guest in unasked, and the sign-in log says it would have failed", async ({ newPage }) => {
    const ada = await newPage();
    await signInAsAda(ada);
    await open(ada, CONDITIONAL_ACCESS);
    await ada.getByRole("link", { name: POLICY }).click();
    await expect(ada.getByRole("heading", { name: POLICY, level: 1 })).toBeVisible();
    await ada.getByRole("group", { name: "State" }).getByLabel("Report-only: evaluated and logged, never enforced").check();
    await ada.getByRole("button", { name: "Save the policy" }).click();
    await expect(ada).toHaveURL(`${portico.url}${CONDITIONAL_ACCESS}`);
    await expect(ada.getByRole("row", { name: new RegExp(POLICY) }).getByRole("cell").nth(1)).toHaveText("Report-only");

    // Quinn, another guest with a passcode only, opens the Wiki and is not asked for more.
    const quinn = await newPage();
    await inviteAndAccept(ada, quinn, "quinn@ca-partner.example", "Quinn Guest");
    const visited: string[] = [];
    quinn.context().on("request", (request) => request.isNavigationRequest() && visited.push(request.url()));
    const wiki = await openWikiFromPanel(quinn);
    await expect(wiki.locator("#who")).toHaveText("Signed in as Quinn Guest <quinn@ca-partner.example> (guest)");
    expect(visited.some((url) => url.includes("/oauth2/v2.0/authorize")), "through Portico's authorization endpoint").toBe(true);
    expect(visited.filter((url) => url.includes("/account/verify")), "no step-up on the way").toEqual([]);
    expect((await wikiIdTokenClaims(quinn.context())).amr).toEqual(["otp"]);

    // The sign-in log: Quinn's sign-in to the Wiki, allowed, with the policy's report-only
    // failure; its link shows only the sign-ins that evaluated the policy.
    await open(ada, "/admin/sign-ins");
    await expectAccessibleBasics(ada);
    const quinnsRow = ada.getByRole("row").filter({ hasText: "quinn@ca-partner.example" }).first();
    await expect(quinnsRow).toContainText("Allowed");
    await expect(quinnsRow).toContainText(`${POLICY}: reportOnlyFailure`);
    await quinnsRow.getByRole("link", { name: POLICY }).click();
    await expect(ada).toHaveURL(/\/admin\/sign-ins\?policy=/);
    await expect(ada.getByRole("status")).toContainText("Only the sign-ins that evaluated one conditional-access policy.");
    await ada.locator("main[data-hydrated]").waitFor();
    await expectAccessibleBasics(ada);
    const rows = ada.getByRole("row").filter({ has: ada.getByRole("cell") });
    // Newest first: Quinn's report-only failures; then Pat's successes after her step-up,
    // and the failure that sent her there.
    const results = await rows.evaluateAll((trs) =>
      trs.map((tr) => {
        const cells = Array.from(tr.querySelectorAll("td"));
        const who = cells[1].textContent!.includes("quinn@") ? "Quinn" : cells[1].textContent!.includes("pat@") ? "Pat" : cells[1].textContent;
        const policies = Array.from(cells[5].querySelectorAll("li")).map((li) => li.textContent!.trim());
        return `${who} ${cells[3].textContent!.trim()}: ${policies.join(", ")}`;
      }),
    );
    expect(results[0]).toBe(`Quinn Allowed: ${POLICY}: reportOnlyFailure`);
    expect(results).toContain(`Pat Refused: ${POLICY}: failure`);
    expect(results).toContain(`Pat Allowed: ${POLICY}: success`);
    expect(results.every((r) => r.includes(POLICY))).toBe(true);
  });

  test("terms of use: written in the console and asked for by a policy, a guest accepts them once per version and lands in the Wiki", async ({ newPage }) => {
    const TERMS = "Wiki code of conduct";
    const ada = await newPage();
    await signInAsAda(ada);
    await open(ada, "/admin/users");
    await ada.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Terms of use" }).click();
    await expect(ada.getByRole("heading", { name: "Terms of use", level: 1 })).toBeVisible();
    await expect(ada.getByText("None yet.")).toBeVisible();
    await ada.getByRole("link", { name: "New terms of use" }).click();
    await ada.locator("main[data-hydrated]").waitFor();
    await expectAccessibleBasics(ada);
    await ada.getByLabel("Name", { exact: true }).fill(TERMS);
    await ada.getByLabel("Text", { exact: true }).fill("Be kind.\n\nShare nothing from the Wiki outside Woodgrove.");
    await ada.getByRole("button", { name: "Save the terms" }).click();
    await expect(ada.getByRole("status").filter({ hasText: "Saved" })).toHaveText(`Saved “${TERMS}” (version 1).`);
    await expect(ada.getByRole("heading", { name: `${TERMS} (version 1)`, level: 1 })).toBeVisible();
    const termsPage = ada.url();

    // A policy, on, asks guests to accept them for the Wiki (and nothing else).
    await open(ada, `${CONDITIONAL_ACCESS}/new`);
    await ada.getByLabel("Name", { exact: true }).fill("Guests accept the code for the Wiki");
    await ada.getByRole("group", { name: "State" }).getByLabel("On: enforced").check();
    await ada.getByRole("group", { name: "Users", exact: true }).getByLabel("All guests and external users").check();
    const apps = ada.getByRole("group", { name: "Apps", exact: true });
    await apps.getByLabel("Selected apps:").check();
    await apps.getByLabel("Apps (names, one a line)", { exact: true }).fill("Wiki");
    const grant = ada.getByRole("group", { name: "Grant" });
    await grant.getByLabel(/^A second factor/).uncheck();
    await grant.getByLabel("Terms of use to accept (names, one a line)").fill(TERMS);
    await ada.getByRole("button", { name: "Save the policy" }).click();
    await expect(ada).toHaveURL(`${portico.url}${CONDITIONAL_ACCESS}`);
    await expect(ada.getByRole("row", { name: /Guests accept the code/ }).getByRole("cell").nth(2)).toHaveText("guests; 1 app; accepted terms of use");

    // Rosa, a new guest, opens the Wiki: the terms come first, then the Wiki, signed in.
    const rosa = await newPage();
    await inviteAndAccept(ada, rosa, "rosa@ca-partner.example", "Rosa Guest");
    const wiki = await openWikiFromPanel(rosa);
    await expect(wiki).toHaveURL(new RegExp(`^${portico.url}/account/terms/`));
    await expect(wiki.getByRole("heading", { name: TERMS, level: 1 })).toBeVisible();
    await expect(wiki.getByText("Woodgrove asks you to read and accept these terms before you go on (its policy “Guests accept the code for the Wiki”).")).toBeVisible();
    await expect(wiki.getByRole("region", { name: "The terms" })).toContainText("Share nothing from the Wiki outside Woodgrove.");
    await wiki.locator("main[data-hydrated]").waitFor();
    await expectAccessibleBasics(wiki);
    await wiki.getByRole("button", { name: "Accept", exact: true }).click();
    await expect(wiki.locator("#who")).toHaveText("Signed in as Rosa Guest <rosa@ca-partner.example> (guest)");
    const again = await openWikiFromPanel(rosa);
    await expect(again.locator("#who")).toHaveText("Signed in as Rosa Guest <rosa@ca-partner.example> (guest)");

    // A new text is version 2: Rosa is asked again, once.
    await open(ada, termsPage);
    await ada.getByLabel("Text", { exact: true }).fill("Be kind.\n\nShare nothing from the Wiki outside Woodgrove or its partners.");
    await ada.getByRole("button", { name: "Save the terms" }).click();
    await expect(ada.getByRole("status").filter({ hasText: "Saved" })).toHaveText(`Saved “${TERMS}” (version 2).`);
    // The Wiki's own session has not ended; her next sign-in to it is asked.
    await rosa.context().clearCookies({ name: "rp_session" });
    const asked = await openWikiFromPanel(rosa);
    await expect(asked).toHaveURL(new RegExp(`^${portico.url}/account/terms/`));
    await expect(asked.getByText(/^Version 2, last changed/)).toBeVisible();
    await asked.getByRole("button", { name: "Accept", exact: true }).click();
    await expect(asked.locator("#who")).toHaveText("Signed in as Rosa Guest <rosa@ca-partner.example> (guest)");

    // The console keeps both acceptances, newest first.
    await open(ada, termsPage);
    await expect(ada.getByText("Guests accept the code for the Wiki", { exact: true })).toBeVisible();
    const accepted = ada.getByRole("region", { name: "Accepted by" }).getByRole("row").filter({ has: ada.getByRole("cell") });
    await expect(accepted).toHaveCount(2);
    await expect(accepted.nth(0).getByRole("cell").nth(2)).toHaveText("2");
    await expect(accepted.nth(1).getByRole("cell").nth(2)).toHaveText("1");
    await expectAccessibleBasics(ada);
  });
});
