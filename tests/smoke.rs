//! Smallest end-to-end check that spawn_app and the verifier work together.
#![allow(clippy::unwrap_used)]
mod common;

#[tokio::test]
async fn minted_token_verifies_against_served_jwks() {
    let app = common::spawn_app(common::test_config()).await;
    let token = app.token(serde_json::json!({"sub": "user_1"})).await;
    let (header, claims) = app.verify(&token).await.unwrap();
    assert_eq!(claims["sub"], "user_1");
    assert_eq!(
        header.kid.as_deref(),
        Some(app.state.issuers.root().keys().signing_key().unwrap().kid())
    );
}
