//! The JSON API's description and reference data, with the district's key.

use super::{Check, Ctx, assert_no_outside};
use crate::common::client;

pub(super) async fn reference_data(k: &mut Check<'_>, c: &Ctx<'_>) {
    // The API with the district's key.
    // The API's description is public: it holds no data.
    let (st, body) = k.get(&client(), "/api/v1/openapi.yaml", "/api/v1/openapi.yaml").await;
    assert!(st == 200 && body.starts_with("openapi: 3"), "{st}");
    let (st, body) = c.api_get(k, "/api/v1/me", "/api/v1/me").await;
    assert!(st == 200 && body.contains("/460100/460105/"));
    let (st, body) = c.api_get(k, "/api/v1/orgs", "/api/v1/orgs").await;
    assert_eq!(st, 200);
    let roots: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(roots["units"].as_array().unwrap().len(), 1);
    assert_eq!(roots["units"][0]["code"], "460105");
    assert_eq!(c.api_get(k, "/api/v1/orgs", "/api/v1/orgs?parent=460106").await.0, 404);
    let (_, body) = c.api_get(k, "/api/v1/orgs", "/api/v1/orgs?parent=460100").await;
    assert_no_outside("api children of the city", &body);
    assert_eq!(c.api_get(k, "/api/v1/orgs/{code}", "/api/v1/orgs/460106-V").await.0, 404);
    assert_eq!(c.api_get(k, "/api/v1/orgs/{code}", "/api/v1/orgs/460105-V").await.0, 200);
    let (_, body) = c.api_get(k, "/api/v1/items", "/api/v1/items?department=460100-D01").await;
    assert_eq!(body, "{\"items\":[]}");
    assert_eq!(
        c.api_get(k, "/api/v1/calendar/deadline", "/api/v1/calendar/deadline?start=2011-04-01T09:00:00%2B08:00&days=2")
            .await
            .0,
        200
    );
    assert_eq!(c.api_get(k, "/api/v1/calendar/years/{year}", "/api/v1/calendar/years/2011").await.0, 200);
}
