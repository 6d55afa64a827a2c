//! The example policies in `examples/` stay valid, and every key in them is documented by a comment.

use casemix_policy::{parse, Model};
use std::path::PathBuf;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

#[test]
fn example_policies_are_valid() {
    let mut n = 0;
    for (file, model, region) in [
        ("wuxi-drg-2025.toml", Model::DrgPoints, "无锡市（示例）"),
        ("ankang-drg-points-2025.toml", Model::DrgPoints, "安康市（示例）"),
        ("lhasa-dip-2025.toml", Model::DipScores, "拉萨市（示例）"),
    ] {
        let text = std::fs::read_to_string(examples().join(file)).unwrap();
        let p = parse(&text).unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert_eq!(p.policy.model, model);
        assert_eq!(p.policy.region, region);
        assert_eq!(p.policy.year, 2025);
        n += 1;
    }
    assert_eq!(n, 3);
    let lhasa = parse(&std::fs::read_to_string(examples().join("lhasa-dip-2025.toml")).unwrap()).unwrap();
    assert_eq!(lhasa.budget.adjustment_fund_share.0.to_string(), "0.08");
    let wuxi = parse(&std::fs::read_to_string(examples().join("wuxi-drg-2025.toml")).unwrap()).unwrap();
    assert_eq!(wuxi.tiers.len(), 3);
    assert!(wuxi.clearing.enabled && wuxi.clearing.surplus_retention.enabled);
    assert_eq!(wuxi.coefficients.discipline.iter().map(|d| d.value.0.to_string()).collect::<Vec<_>>(), vec!["1.04", "1.04", "1.02"]);
}
