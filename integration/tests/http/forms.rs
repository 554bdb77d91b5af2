//! Forms posted without JavaScript that the server refuses: the page they return to shows
//! the error and what was typed (never a password), and its address carries no error.

use integration::{PASSWORD, Portico};

/// The `value` of the input whose id is `id` on a page, if it has one.
fn value_of(page: &str, id: &str) -> Option<String> {
    let input = page
        .split("<input")
        .find(|input| input.contains(&format!("id=\"{id}\"")))?;
    let tag = input.split('>').next()?;
    let value = tag.split(" value=\"").nth(1)?;
    Some(value.split('"').next()?.to_string())
}

#[tokio::test]
async fn a_refused_form_comes_back_with_its_values_and_error_but_not_in_the_address() {
    let portico = Portico::start();
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    let page = format!("{}/admin/users?q=m", portico.url);
    // What a browser without JavaScript sends from the users page, here from an address that
    // still carries an error the way Leptos writes one (as it piled up before).
    let referer = format!("{page}&__path=%2Ffn%2Fadmin%2Fusers%2Fcreate&__err=old");
    let weak = "x7Tiny!";
    let posted = portico
        .http()
        .post(format!("{}/fn/admin/users/create", portico.url))
        .header("Origin", &portico.url)
        .header("Referer", &referer)
        .header("Accept", "text/html")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Cookie", format!("portico_session={ada}"))
        .body(integration::encode_form(&[
            ("display_name", "Mia Member"),
            ("email", "mia@contoso.example"),
            ("password", weak),
        ]))
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_redirection(), "{}", posted.status());
    let back = posted.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        back, page,
        "back to the page's own address, with no error in it"
    );
    let flash = integration::flash_of(&posted).expect("a flash with the refused form");

    let open = |cookies: String| {
        let request = portico.http().get(&back).header("Cookie", cookies);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let shown = open(format!("portico_session={ada}; portico_flash={flash}")).await;
    assert!(
        shown.contains("Use at least 8 characters."),
        "the field's error is on the page"
    );
    assert_eq!(
        value_of(&shown, "field-display_name").as_deref(),
        Some("Mia Member")
    );
    assert_eq!(
        value_of(&shown, "field-email").as_deref(),
        Some("mia@contoso.example")
    );
    assert_eq!(
        value_of(&shown, "field-password").as_deref(),
        Some(""),
        "a password is never given back"
    );
    assert!(!shown.contains(weak));
    assert!(
        shown.contains(r#"role="alert" tabindex="-1" autofocus"#),
        "the error takes the focus"
    );
    // Nobody was created.
    let users = portico
        .call(
            "admin/users",
            &[("search", ""), ("user_type", ""), ("page", "0")],
            Some(&ada),
        )
        .await;
    assert!(users.ok(), "{users:?}");
    assert!(!users.body.to_string().contains("mia@contoso.example"));

    // Shown once: the page opened again is the empty form.
    let again = open(format!("portico_session={ada}; portico_flash={flash}")).await;
    assert_eq!(value_of(&again, "field-display_name").as_deref(), Some(""));
    assert!(!again.contains("Use at least 8 characters."));
}

#[tokio::test]
async fn a_form_posted_by_a_program_still_gets_its_error_as_an_answer() {
    let portico = Portico::start();
    portico.seed_tenant(
        "Contoso",
        "contoso.example",
        "ada@contoso.example",
        &["global-administrator"],
    );
    let ada = portico.sign_in("ada@contoso.example", PASSWORD).await;
    // No `Accept: text/html`: the caller is a program (or the page's own script), which
    // reads the error from the answer rather than being sent back to a page.
    let answer = portico
        .call(
            "admin/users/create",
            &[
                ("display_name", "Mia Member"),
                ("email", "mia@contoso.example"),
                ("password", "short"),
            ],
            Some(&ada),
        )
        .await;
    assert_eq!(answer.status, 422, "{answer:?}");
    assert_eq!(answer.error_kind().as_deref(), Some("Invalid"));
}
