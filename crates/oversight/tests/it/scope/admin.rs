//! Administration of users and API keys, and the audit log.

use super::{Check, Ctx, assert_no_outside};
use crate::common;
use oversight_app::accounts;

pub(super) async fn users(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { s, app, xy, lh, lh_csrf, xiuying_id, xiuying_grant, .. } = c;
    // Administration: the 龙华区 administrator sees and manages only 龙华区.
    assert_eq!(k.get(xy, "/admin/users", "/admin/users").await.0, 403, "a supervisor manages no users");
    let (st, body) = k.get(lh, "/admin/users", "/admin/users").await;
    assert_eq!(st, 200);
    assert!(body.contains("lhadmin") && !body.contains("xiuying") && !body.contains("xiaoneng"), "{body}");
    assert_eq!(k.get(xy, "/admin/users/new", "/admin/users/new").await.0, 403);
    assert_eq!(k.get(lh, "/admin/users/new", "/admin/users/new").await.0, 200);
    let (st, _) = k
        .post(
            lh,
            "/admin/users",
            "/admin/users",
            &[
                ("csrf", lh_csrf),
                ("username", "xy_new"),
                ("display_name", "越权"),
                ("password", "abcdefgh1"),
                ("role", "admin"),
                ("org_code", "460105"),
            ],
        )
        .await;
    assert_eq!(st, 422);
    assert!(oversight_store::access::user_by_name(&app.db, "xy_new").await.unwrap().is_none());
    let user_url = format!("/admin/users/{xiuying_id}");
    assert_eq!(k.get(lh, "/admin/users/{id}", &user_url).await.0, 404);
    assert_eq!(
        k.post(
            lh,
            "/admin/users/{id}/grants",
            &format!("{user_url}/grants"),
            &[("csrf", lh_csrf), ("role", "leader"), ("org_code", "460106")]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        k.post(
            lh,
            "/admin/users/{id}/grants/{grant}/delete",
            &format!("{user_url}/grants/{xiuying_grant}/delete"),
            &[("csrf", lh_csrf)]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        k.post(
            lh,
            "/admin/users/{id}/password",
            &format!("{user_url}/password"),
            &[("csrf", lh_csrf), ("password", "hijacked-1")]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        k.post(
            lh,
            "/admin/users/{id}/active",
            &format!("{user_url}/active"),
            &[("csrf", lh_csrf), ("active", "false")]
        )
        .await
        .0,
        404
    );
    assert_eq!(oversight_store::access::grants(&app.db, xiuying_id).await.unwrap().len(), 1);
    assert!(oversight_store::access::user(&app.db, xiuying_id).await.unwrap().unwrap().active);
    assert!(accounts::login(app, "xiuying", &common::password(s, "xiuying"), "t").await.is_ok(), "password unchanged");
}

pub(super) async fn api_keys(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { app, lh, lh_csrf, xy_key, xy_secret, .. } = c;
    let (st, body) = k.get(lh, "/admin/api-keys", "/admin/api-keys").await;
    assert_eq!(st, 200);
    assert!(!body.contains(&xy_key.prefix), "another district's key is not listed");
    assert_eq!(
        k.post(
            lh,
            "/admin/api-keys",
            "/admin/api-keys",
            &[("csrf", lh_csrf), ("name", "越权"), ("scope", "460105"), ("purpose", "case_events")]
        )
        .await
        .0,
        422
    );
    assert_eq!(
        k.post(
            lh,
            "/admin/api-keys/{id}/revoke",
            &format!("/admin/api-keys/{}/revoke", xy_key.id),
            &[("csrf", lh_csrf)]
        )
        .await
        .0,
        404
    );
    assert!(accounts::api_key_actor(app, xy_secret).await.unwrap().is_some(), "still valid");
}

pub(super) async fn audit_log(k: &mut Check<'_>, c: &Ctx<'_>) {
    let Ctx { xy, .. } = c;
    // The audit log: only rows filed under the district.
    let (st, body) = k.get(xy, "/audit", "/audit").await;
    assert_eq!(st, 200);
    assert_no_outside("audit", &body);
    assert!(!body.contains("demo.load"), "city-wide rows stay hidden");
    // Verifying reads the whole chain: a district's auditor may not start it.
    assert!(!body.contains("verify=1"), "no button to verify for a district");
    assert_eq!(k.get(xy, "/audit", "/audit?verify=1").await.0, 403);
}
