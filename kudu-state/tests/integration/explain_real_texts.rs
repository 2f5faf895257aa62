//! `explain` on conflict texts as deploy clients really print them, each body copied from the public
//! source named next to it (issue threads, or the client's source where it prints a fixed text), with
//! the client's wrapper text. The same bodies are fuzz seeds in `fuzz/seeds/explain_409/`.

use kudu_state::explain::{ConflictKind, Explanation, explain};

fn check(body: &str, status: Option<u16>, kind: ConflictKind, retryable: bool) -> Explanation {
    let ex = explain(body, status);
    assert_eq!(ex.kind, kind, "{body}");
    assert_eq!(ex.retryable, retryable, "{body}");
    assert!(!ex.advice.is_empty());
    ex
}

/// https://github.com/microsoft/vscode-azurefunctions/issues/1907 (VS Code Azure Functions).
const VSCODE_ARM_429: &str = "Action: azureFunctions.deploy
Error type: 429
Error Message: Cannot acquire exclusive lock to create, update or delete this site. Retry the request later.

Version: 0.20.2
OS: win32
Product: Visual Studio Code
Product Version: 1.42.1
Language: en";

/// https://github.com/pulumi/pulumi-azure-native/issues/849 (Pulumi, autorest error with ARM details).
const PULUMI_ARM_429: &str = r#"  azure-native:web:WebApp (app-example-dev):
    error: autorest/azure: Service returned an error. Status=429 Code="429" Message="Cannot acquire exclusive lock to create, update or delete this site. Retry the request later." Details=[{"Message":"Cannot acquire exclusive lock to create, update or delete this site. Retry the request later."},{"Code":"429"},{"ErrorEntity":{"Code":"429","ExtendedCode":"59206","Message":"Cannot acquire exclusive lock to create, update or delete this site. Retry the request later.","MessageTemplate":"Cannot acquire exclusive lock to create, update or delete this site. Retry the request later.","Parameters":[]}}]"#;

/// https://github.com/hashicorp/terraform-provider-azurerm/issues/600 (the App Service plan's lock,
/// from the resource group's activity log).
const TERRAFORM_PLAN_429: &str = "From Azure resource group logs:
```
Cannot acquire exclusive lock to create or update this server farm. Retry the request later.`
```";

/// A management lock (the existing `ScopeLocked` case), for contrast with the 429s above.
const SCOPE_LOCKED: &str = r#"{"error":{"code":"ScopeLocked","message":"The scope '/subscriptions/0000/resourcegroups/rg/providers/Microsoft.Web/sites/app' cannot perform write operation because following scope(s) are locked: '/subscriptions/0000/resourceGroups/rg'. Please remove the lock and try again."}}"#;

#[test]
fn arm_exclusive_lock_429_is_retryable_arm_site_lock() {
    for body in [VSCODE_ARM_429, PULUMI_ARM_429, TERRAFORM_PLAN_429] {
        let ex = check(body, Some(429), ConflictKind::ArmSiteLock, true);
        assert_eq!(ex.kind.as_str(), "arm-site-lock");
        assert!(
            ex.advice.contains("429") && ex.advice.contains("retry"),
            "{}",
            ex.advice
        );
        assert!(
            !ex.advice.contains("management lock (ReadOnly"),
            "{}",
            ex.advice
        );
        // The kind's own answer is the management lock's; the text decided otherwise.
        assert!(!ex.kind.retryable());
    }
    // Kept apart from a management lock: same kind code, not retryable, other advice.
    let ex = check(SCOPE_LOCKED, Some(409), ConflictKind::ArmSiteLock, false);
    assert!(ex.advice.contains("management lock"));
    // JSON output carries the per-text answer.
    let v = serde_json::to_value(explain(VSCODE_ARM_429, Some(429))).expect("json");
    assert_eq!(
        (v["kind"].as_str(), v["retryable"].as_bool()),
        (Some("arm-site-lock"), Some(true))
    );
}

/// az cli, `_check_zip_deployment_status_flex` for deployment status 5 (Azure/azure-cli
/// src/azure-cli/azure/cli/command_modules/appservice/custom.py), as CLIError prints it.
const AZ_STATUS_5: &str = "ERROR: Deployment was cancelled and another deployment is in progress.";

/// VS Code App Service tools for status 5 (microsoft/vscode-azuretools
/// appservice/src/deploy/waitForDeploymentToComplete.ts), thrown as an Error.
const VSCODE_STATUS_5: &str =
    "Error: Deployment was cancelled and another deployment is in progress";

/// az cli `_make_onedeploy_request` (az webapp deploy) on a 409, Azure/azure-cli appservice/custom.py.
const AZ_ONEDEPLOY_409: &str = "ERROR: Another deployment is in progress. Please wait until that process is complete before starting a new deployment. You can track the ongoing deployment at https://myapp.scm.azurewebsites.net/api/deployments/latest";

/// az cli `enable_zip_deploy_flex` on a 409 (Flex Consumption), Azure/azure-cli appservice/custom.py.
const AZ_FLEX_409: &str = "ERROR: There may be an ongoing deployment. Please track your deployment in https://myapp.scm.azurewebsites.net/api/deployments/latest";

/// https://github.com/microsoft/vscode-azureappservice/issues/1501 (VS Code, Kudu's text).
const VSCODE_IN_PROGRESS: &str = "Does this occur consistently?
Repro steps:

1.
2.

Action: appService.Deploy
Error type: 409
Error Message: There is a deployment currently in progress. Please try again when it completes.

Version: 0.16.5
OS: win32";

/// https://github.com/projectkudu/kudu/issues/2834 (an AppVeyor zip deploy).
const APPVEYOR_IN_PROGRESS: &str = "Error performing Zip Push Deploy (409 status): There is a deployment currently in progress. Please try again when it completes.";

/// az cli's context-enriched error (`format_enriched_error_message` in Azure/azure-cli
/// appservice/_deployment_context_engine.py, used for 409s on Linux web apps) around Kudu's text.
const AZ_ENRICHED_IN_PROGRESS: &str = "
========================================================================
DEPLOYMENT FAILED: Context-Enriched Diagnostics
========================================================================

Error Code  : DeploymentInProgress
Stage       : Deployment
Runtime     : NODE|20-lts
Deploy Type : ZipDeploy
Region      : westeurope
Plan SKU    : B1
Last Step   : Zip deployment HTTP request
Kudu Status : 409

Raw Error   : There is a deployment currently in progress. Please try again when it completes.

Suggested Fixes:
  - Wait for the current deployment to complete before starting a new one
  - Check deployment status: 'az webapp deployment show'
  - If stuck, restart the SCM site to release the deployment lock

------------------------------------------------------------------------
  Copy the full error output above and paste it into GitHub Copilot Chat
  with the prompt: 'Why did my Linux App Service deployment fail and how do I fix it?'
------------------------------------------------------------------------";

#[test]
fn deployment_in_progress_as_clients_print_it() {
    for body in [AZ_STATUS_5, VSCODE_STATUS_5] {
        let ex = check(body, None, ConflictKind::DeploymentInProgress, true);
        assert!(ex.advice.contains("status 5"), "{}", ex.advice);
    }
    for body in [
        AZ_ONEDEPLOY_409,
        AZ_FLEX_409,
        VSCODE_IN_PROGRESS,
        APPVEYOR_IN_PROGRESS,
        AZ_ENRICHED_IN_PROGRESS,
    ] {
        let ex = check(body, Some(409), ConflictKind::DeploymentInProgress, true);
        assert!(!ex.advice.contains("status 5"), "{}", ex.advice);
    }
}

/// https://github.com/Azure/azure-dev/issues/113: az cli `enable_zip_deploy` on a 409 (Azure/azure-cli
/// appservice/custom.py), wrapped by azd. Kudu's body is gone and the text names two causes.
const AZ_ZIP_409_AMBIGUOUS: &str = "Error: deploying service: deploying service api package: deploying service api: failed running az deployment source config-zip: exit code: 1, stdout: , stderr: ERROR: There may be an ongoing deployment or your app setting has WEBSITE_RUN_FROM_PACKAGE. Please track your deployment in https://app-api-uyicu7wr543da.scm.azurewebsites.net/api/deployments/latest and ensure the WEBSITE_RUN_FROM_PACKAGE app setting is removed. Use 'az webapp config appsettings list --name MyWebapp --resource-group MyResourceGroup --subscription MySubscription' to list app settings and 'az webapp config appsettings delete --name MyWebApp --resource-group MyResourceGroup --setting-names <setting-names> to delete them.
: exit status 1";

#[test]
fn az_zip_409_without_kudus_body_names_both_causes() {
    let ex = check(
        AZ_ZIP_409_AMBIGUOUS,
        Some(409),
        ConflictKind::Unknown,
        false,
    );
    assert!(
        ex.advice.contains("did not print Kudu's answer")
            && ex.advice.contains("WEBSITE_RUN_FROM_PACKAGE")
            && ex.advice.contains("/api/deployments/latest"),
        "{}",
        ex.advice
    );
}

/// Newer KuduLite's lock failure as az cli's failure-pattern table matches it (409 and "failed to
/// acquire deployment lock" -> DeploymentLockFailed, Azure/azure-cli
/// appservice/_deployment_failure_patterns.py). Kudu's exact sentence is not public: the body holds the
/// phrase az matches, inside az's enriched error.
const AZ_ENRICHED_LOCK_FAILED: &str = "
========================================================================
DEPLOYMENT FAILED: Context-Enriched Diagnostics
========================================================================

Error Code  : DeploymentLockFailed
Stage       : Deployment
Runtime     : PYTHON|3.12
Deploy Type : OneDeploy
Region      : eastus
Plan SKU    : P1v3
Last Step   : OneDeploy HTTP request
Kudu Status : 409

Raw Error   : Failed to acquire deployment lock

Suggested Fixes:
  - Wait and retry — another deployment may be in progress
  - Restart the SCM site to release stale locks
  - Check if another CI/CD pipeline is deploying concurrently
";

/// https://github.com/projectkudu/kudu/issues/1263: old Windows Kudu's lock timeout, in its trace.
const KUDU_TRACE_LOCK_TIMEOUT: &str = r#"<step title="Error occurred" date="07/21 10:00:27" type="error" text="Unable to acquire lock after 480 seconds.  Please retry operation later." stackTrace="   at Kudu.Contracts.Infrastructure.LockExtensions.LockOperation(IOperationLock lockObj, Action operation, TimeSpan timeout)&#xD;&#xA;   at Kudu.Services.GitServer.InfoRefsController.InitialCommitIfNecessary()&#xD;&#xA;   at Kudu.Services.GitServer.InfoRefsController.SmartInfoRefs(String service)&#xD;&#xA;   at Kudu.Services.GitServer.InfoRefsController.Execute(String service)&#xD;&#xA;   at lambda_method(Closure , Object , Object[] )&#"#;

#[test]
fn lock_acquire_failed_texts() {
    for body in [
        AZ_ENRICHED_LOCK_FAILED,
        "failed to acquire deployment lock",
        r#"{"Message":"Failed to acquire deployment lock."}"#,
        KUDU_TRACE_LOCK_TIMEOUT,
    ] {
        let ex = check(body, Some(409), ConflictKind::LockAcquireFailed, true);
        assert!(ex.advice.contains("site/locks"), "{}", ex.advice);
    }
}

/// https://github.com/microsoft/vscode-azureappservice/issues/2402: the time was redacted by the
/// extension's issue reporter, so only the names can be read.
const VSCODE_LOCK_REDACTED: &str = "Action: appService.Deploy
Error type: 409
Error Message: The 'Preparing zip package' operation conflicts with the pending 'Preparing zip package' operation started at redacted:id01T09redacted:id0551188Z.  Please retry operation later.

Version: 0.24.7
OS: win32";

/// https://github.com/microsoft/vscode-azureappservice/issues/2380.
const VSCODE_LOCK_CONTINUOUS: &str = "Action: appService.Deploy
Error type: 409
Error Message: The 'Preparing zip package' operation conflicts with the pending 'Performing continuous deployment' operation started at redacted:id15T17redacted:id8756190Z.  Please retry operation later.";

#[test]
fn lock_conflict_with_a_redacted_time() {
    let ex = check(
        VSCODE_LOCK_REDACTED,
        Some(409),
        ConflictKind::LockConflict,
        true,
    );
    assert_eq!(
        ex.requested_operation.as_deref(),
        Some("Preparing zip package")
    );
    assert_eq!(
        ex.holder_operation.as_deref(),
        Some("Preparing zip package")
    );
    assert_eq!(
        ex.started_at_text.as_deref(),
        Some("redacted:id01T09redacted:id0551188Z")
    );
    assert_eq!(ex.started_at, None);
    let ex = check(
        VSCODE_LOCK_CONTINUOUS,
        Some(409),
        ConflictKind::LockConflict,
        true,
    );
    assert_eq!(
        ex.holder_operation.as_deref(),
        Some("Performing continuous deployment")
    );
}

/// Clients that print only their own words for a 409 carry nothing to classify:
/// https://github.com/Azure/webapps-deploy/issues/7 and https://github.com/Azure/webapps-deploy/issues/98.
#[test]
fn client_only_texts_stay_unknown() {
    for body in [
        "Encountered a retriable status code: 409. Message: 'Conflict'",
        "Deployment Failed with Error: Error: Failed to deploy web package to App Service.Conflict (CODE: 409)",
    ] {
        let ex = check(body, Some(409), ConflictKind::Unknown, false);
        assert!(ex.advice.contains("kudu-state diagnose"));
    }
}

/// The fuzz corpus (`fuzz/seeds/explain_409/`, two status bytes then the body) holds the bodies
/// above: each gives the kind its test expects, and every seed keeps the fuzz target's invariants.
#[test]
fn fuzz_seeds_classify_as_their_tests_say() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/explain_409");
    let expected = [
        ("arm-429-vscode", VSCODE_ARM_429, ConflictKind::ArmSiteLock),
        (
            "arm-429-pulumi-autorest",
            PULUMI_ARM_429,
            ConflictKind::ArmSiteLock,
        ),
        (
            "arm-429-server-farm",
            TERRAFORM_PLAN_429,
            ConflictKind::ArmSiteLock,
        ),
        (
            "az-status-5-cancelled",
            AZ_STATUS_5,
            ConflictKind::DeploymentInProgress,
        ),
        (
            "az-zip-409-ambiguous",
            AZ_ZIP_409_AMBIGUOUS,
            ConflictKind::Unknown,
        ),
        (
            "az-enriched-lock-failed",
            AZ_ENRICHED_LOCK_FAILED,
            ConflictKind::LockAcquireFailed,
        ),
        (
            "vscode-lock-redacted-time",
            VSCODE_LOCK_REDACTED,
            ConflictKind::LockConflict,
        ),
    ];
    for (name, body, kind) in expected {
        let bytes = std::fs::read(dir.join(name)).expect("seed");
        assert_eq!(bytes.get(2..), Some(body.as_bytes()), "{name}");
        assert_eq!(explain(body, None).kind, kind, "{name}");
    }
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("seeds") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("seed");
        let (status, body) = match bytes.as_slice() {
            [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]), rest),
            _ => (409, bytes.as_slice()),
        };
        let x = explain(
            &String::from_utf8_lossy(body),
            (status != 0).then_some(status),
        );
        assert!(
            x.retryable == x.kind.retryable()
                || (x.kind == ConflictKind::ArmSiteLock && x.retryable)
        );
        assert!(!x.advice.is_empty());
        seen += 1;
    }
    assert!(seen >= 20, "{seen} seeds");
}
