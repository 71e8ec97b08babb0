//! The deployment files (deploy/) say what the README promises: the dashboard plots the SPEC
//! 2.6 metrics and nothing else, the image runs as a non-root user with its data on a volume,
//! the systemd unit takes secrets from an environment file and is hardened. (No container
//! engine runs here, so these are structural checks; the image was not built.)

use super::serve::SPEC_NAMES;
use regex::Regex;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn dashboard_plots_every_spec_metric_and_only_those() {
    let d: serde_json::Value =
        serde_json::from_str(&read("deploy/grafana-dashboard.json")).unwrap();
    let exprs: Vec<String> = d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().iter())
        .map(|t| t["expr"].as_str().unwrap().to_string())
        .collect();
    let all = exprs.join("\n");
    for name in SPEC_NAMES {
        assert!(all.contains(name), "no panel shows {name}");
    }
    let used = Regex::new(r"repaybot_[a-z_]+").unwrap();
    for m in used.find_iter(&all) {
        let name = m.as_str().trim_end_matches("_bucket");
        assert!(
            SPEC_NAMES.contains(&name),
            "{name} is not a metric of SPEC 2.6"
        );
    }
}

#[test]
fn image_runs_as_non_root_with_data_on_a_volume() {
    let f = read("deploy/Dockerfile");
    assert_eq!(
        f.lines().filter(|l| l.starts_with("FROM ")).count(),
        2,
        "multi-stage"
    );
    let user = f
        .lines()
        .find(|l| l.starts_with("USER "))
        .expect("a USER line");
    assert!(!user.contains("root") && !user.contains(" 0"), "{user}");
    assert!(f.contains("VOLUME [\"/data\"]"));
    assert!(f.contains("REPAYBOT_DATA=/data"));
    assert!(!f.contains("TELOXIDE_TOKEN="), "no secret in the image");
}

#[test]
fn systemd_unit_reads_secrets_from_a_file_and_is_hardened() {
    let f = read("deploy/repaybot.service");
    let set: Vec<&str> = f.lines().filter(|l| !l.starts_with('#')).collect();
    for want in [
        "EnvironmentFile=",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=",
        "StateDirectory=repaybot",
        "ExecStart=/usr/local/bin/repaybot serve",
    ] {
        assert!(set.iter().any(|l| l.starts_with(want)), "missing {want}");
    }
    assert!(
        !set.iter().any(|l| l.contains("TELOXIDE_TOKEN")),
        "the token belongs in the EnvironmentFile"
    );
}
