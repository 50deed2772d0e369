//! admin-svc's own metrics, defined as the runtime defines its own
//! (`shop_runtime::metrics::catalog`), and registered with the recorder when the API starts.

shop_runtime::metric_families! {
    ADMIN_SIGN_INS: Counter<1> = "admin_sign_ins_total",
        ["outcome"], None,
        "Admin sign-in attempts, by outcome (success, bad_credentials, throttled, invalid, unavailable).";
}

/// Registers the help text of admin-svc's metrics with the installed recorder.
pub fn describe() {
    shop_runtime::metrics::family::describe(ALL);
}
