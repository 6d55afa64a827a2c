//! API tests: the real server on 127.0.0.1:0, called over real HTTP/1.1 with a raw TCP client.

use casemix_grouper::Grouper;
use casemix_server::{AppState, Pricing};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn shared() -> PathBuf {
    match std::env::var_os("CASEMIX_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

fn grouper() -> Arc<Grouper> {
    static G: OnceLock<Arc<Grouper>> = OnceLock::new();
    G.get_or_init(|| Arc::new(Grouper::from_dir(shared().join("schemes/chs_drg_11")).expect("scheme chs_drg_11"))).clone()
}

async fn start(state: AppState) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(casemix_server::serve(l, state));
    addr
}

fn state() -> AppState {
    AppState { grouper: grouper(), pricing: None, body_limit: casemix_server::DEFAULT_BODY_LIMIT, workbench: None }
}

/// One HTTP/1.1 request (Connection: close); returns status, headers text and body text.
async fn raw(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (mut rd, mut wr) = s.split();
    let body = body.to_vec();
    // write and read concurrently: the server may answer (413) before it has read the whole body.
    let write = async move {
        let _ = wr.write_all(head.as_bytes()).await;
        let _ = wr.write_all(&body).await;
    };
    let read = async move {
        let mut buf = Vec::new();
        let _ = rd.read_to_end(&mut buf).await;
        buf
    };
    let ((), buf) = tokio::join!(write, read);
    let text = String::from_utf8(buf).expect("utf-8 response");
    let (h, b) = text.split_once("\r\n\r\n").expect("http response");
    let status: u16 = h.split(' ').nth(1).unwrap().parse().unwrap();
    (status, h.to_string(), b.to_string())
}

async fn call(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let (st, h, b) = raw(addr, method, path, body).await;
    assert!(h.to_ascii_lowercase().contains("content-type: application/json"), "JSON answer expected: {h}");
    (st, serde_json::from_str(&b).unwrap_or_else(|e| panic!("not JSON ({e}): {b}")))
}

async fn post(addr: SocketAddr, path: &str, v: &Value) -> (u16, Value) {
    call(addr, "POST", path, v.to_string().as_bytes()).await
}

fn assert_error(st: u16, v: &Value, want_status: u16, want_code: &str) {
    assert_eq!(st, want_status, "{v}");
    assert_eq!(v["code"], want_code, "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(m.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "Chinese message expected: {m}");
}

/// The hand-made appendicitis case (see the grouper's tests). Derivation under CHS-DRG 1.1:
/// 47.0100 (appendectomy) is in `or_procedures`, so MDCA's entry condition holds, but no MDCA
/// ADRG lists it → MDCA falls through; K35.300 ∈ MDCG.dx → MDCG; GD1's entry needs
/// K35.300 ∈ GD1.dx and 47.0100 ∈ GD1.proc → GD1; J18.900 is a CC whose exclusion table is 101,
/// the principal's table is 112 → the CC counts → GD13 (伴并发症或合并症).
fn appendicitis() -> Value {
    json!({"list_id": "A001", "sex": 1, "age_years": 30, "diagnoses": ["K35.300", "J18.900"], "procedures": ["47.0100"], "los_days": 5, "leaving_type": 1})
}

#[tokio::test]
async fn health_and_openapi() {
    let a = start(state()).await;
    let (st, v) = call(a, "GET", "/api/health", b"").await;
    assert_eq!(st, 200);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["scheme"]["id"], grouper().id());
    assert_eq!(v["scheme"]["title"], grouper().title());
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["pricing"], Value::Null);
    assert_eq!(v["max_cases"], 10_000);

    let (st, v) = call(a, "GET", "/api/openapi.json", b"").await;
    assert_eq!(st, 200);
    assert!(v["openapi"].as_str().unwrap().starts_with("3.0"));
    for p in ["/api/health", "/api/openapi.json", "/api/v1/group"] {
        assert!(v["paths"][p].is_object(), "{p} documented");
    }
    for s in ["Error", "Case", "Batch", "CaseResult", "BatchResult", "Health"] {
        assert!(v["components"]["schemas"][s].is_object(), "schema {s}");
    }
    // every $ref resolves
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    if k == "$ref" {
                        out.push(x.as_str().unwrap().to_string());
                    }
                    refs(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut rs = Vec::new();
    refs(&v, &mut rs);
    assert!(!rs.is_empty());
    for r in rs {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(v["components"]["schemas"][name].is_object(), "{r}");
    }
}

#[tokio::test]
async fn group_one_case() {
    let a = start(state()).await;
    let (st, v) = post(a, "/api/v1/group", &appendicitis()).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["id"], "A001");
    assert_eq!(v["status"], "分组成功");
    assert_eq!((v["mdc"].as_str(), v["adrg"].as_str(), v["drg"].as_str()), (Some("MDCG"), Some("GD1"), Some("GD13")));
    assert!(!v["drg_name"].as_str().unwrap().is_empty());
    assert!(v.get("trace").is_none(), "no trace unless asked");
    assert!(v.get("rw").is_none(), "no pricing without weights");
    // a leading UTF-8 byte-order mark is accepted
    let mut b = "\u{feff}".as_bytes().to_vec();
    b.extend_from_slice(appendicitis().to_string().as_bytes());
    let (st, v) = call(a, "POST", "/api/v1/group", &b).await;
    assert_eq!((st, v["drg"].as_str()), (200, Some("GD13")));
}

#[tokio::test]
async fn chinese_labels_and_explain() {
    let a = start(state()).await;
    // the same case keyed by Chinese labels, multi-value fields as |-separated text, id as 病案ID
    let c = json!({"病案ID": "B7", "性别": "1", "年龄(岁)": "30", "出院诊断编码": "K35.300|J18.900", "手术及操作编码": "47.0100", "实际住院天数": 5, "离院方式": "1"});
    let (st, v) = post(a, "/api/v1/group?explain=true", &c).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["id"], "B7");
    assert_eq!(v["drg"], "GD13");
    let trace = v["trace"].as_array().expect("trace with explain=true");
    assert!(!trace.is_empty());
    assert!(trace.iter().all(|l| l["depth"].is_u64() && l["text"].is_string()));
    assert!(trace.iter().any(|l| l["text"].as_str().unwrap().contains("GD13")), "{trace:?}");
    // explain=false → no trace
    let (_, v) = post(a, "/api/v1/group?explain=false", &c).await;
    assert!(v.get("trace").is_none());
}

#[tokio::test]
async fn batch_good_and_bad_case_both_answered() {
    let a = start(state()).await;
    let bad = json!({"list_id": "X9", "sex": 1, "age_years": "三十", "diagnoses": ["K35.300"], "procedures": ["47.0100"]});
    let odd = json!({"list_id": "X10", "los_days": {"days": 5}});
    let body = json!({"cases": [appendicitis(), bad, 42, odd]});
    let (st, v) = post(a, "/api/v1/group", &body).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["scheme"], grouper().id());
    assert_eq!(v["count"], 4);
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(r[0]["drg"], "GD13");
    assert_eq!(r[1]["id"], "X9");
    assert_eq!(r[1]["status"], "输入错误");
    let m = r[1]["message"].as_str().unwrap();
    assert!(m.contains("age_years") && m.contains("三十"), "{m}");
    assert_eq!(r[1]["errors"][0]["field"], "age_years");
    assert_eq!(r[1]["errors"][0]["rule"], "integer");
    assert_eq!(r[1]["drg"], "");
    assert_eq!(r[2]["status"], "输入错误");
    assert!(r[2]["message"].as_str().unwrap().contains("第 3 例"));
    assert_eq!(r[3]["status"], "输入错误");
    assert_eq!(r[3]["errors"][0]["rule"], "json_type");
    assert!(r[3]["message"].as_str().unwrap().contains("los_days"));
}

#[tokio::test]
async fn large_batch_runs_off_the_async_workers() {
    let a = start(state()).await;
    // 200 > BLOCKING_BATCH cases: grouped on the blocking pool, order kept
    let cases: Vec<Value> = (0..200)
        .map(|i| {
            let mut c = appendicitis();
            c["list_id"] = json!(format!("L{i}"));
            c
        })
        .collect();
    let (st, v) = post(a, "/api/v1/group", &json!({ "cases": cases })).await;
    assert_eq!(st, 200);
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 200);
    for (i, x) in r.iter().enumerate() {
        assert_eq!(x["id"], format!("L{i}"));
        assert_eq!(x["drg"], "GD13");
    }
}

#[tokio::test]
async fn error_paths() {
    let a = start(state()).await;
    let (st, v) = call(a, "POST", "/api/v1/group", b"{\"sex\": 1,").await;
    assert_error(st, &v, 400, "invalid_json");
    let (st, v) = call(a, "POST", "/api/v1/group", b"").await;
    assert_error(st, &v, 400, "invalid_json");
    for body in ["[1,2]", "\"case\"", "17", "null", "{\"cases\": 5}", "{\"cases\": {\"a\": 1}}"] {
        let (st, v) = call(a, "POST", "/api/v1/group", body.as_bytes()).await;
        assert_error(st, &v, 422, "invalid_case");
    }
    let (st, v) = post(a, "/api/v1/group?explain=maybe", &appendicitis()).await;
    assert_error(st, &v, 400, "invalid_query");
    let (st, v) = call(a, "GET", "/api/nothing", b"").await;
    assert_error(st, &v, 404, "not_found");
    let (st, v) = call(a, "POST", "/api/v2/group", b"{}").await;
    assert_error(st, &v, 404, "not_found");
    let (st, v) = call(a, "GET", "/api/v1/group", b"").await;
    assert_error(st, &v, 405, "method_not_allowed");
    let (st, v) = call(a, "DELETE", "/api/health", b"").await;
    assert_error(st, &v, 405, "method_not_allowed");
    // 10,001 cases → too_many_cases (before any grouping)
    let many = format!("{{\"cases\": [{}{{}}]}}", "{},".repeat(10_000));
    let (st, v) = call(a, "POST", "/api/v1/group", many.as_bytes()).await;
    assert_error(st, &v, 422, "too_many_cases");
    assert!(v["message"].as_str().unwrap().contains("10001"));
    // exactly 10,000 is accepted
    let ok = format!("{{\"cases\": [{}{{}}]}}", "{},".repeat(9_999));
    let (st, v) = call(a, "POST", "/api/v1/group", ok.as_bytes()).await;
    assert_eq!(st, 200);
    assert_eq!(v["count"], 10_000);
}

#[tokio::test]
async fn oversized_body() {
    let mut s = state();
    s.body_limit = 64 * 1024;
    let a = start(s).await;
    let big = format!("{{\"cases\": [{}{{}}]}}", "{\"diagnoses\": \"K35.300\"},".repeat(9_999));
    assert!(big.len() > 64 * 1024);
    let (st, v) = call(a, "POST", "/api/v1/group", big.as_bytes()).await;
    assert_error(st, &v, 413, "body_too_large");
    // the default limit (32 MiB) accepts the same body
    let a = start(state()).await;
    let (st, _) = call(a, "POST", "/api/v1/group", big.as_bytes()).await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn malformed_bodies_only_4xx() {
    let a = start(state()).await;
    // deterministic pseudo-random bytes (xorshift, fixed seed) and wrong-type documents
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut bodies: Vec<Vec<u8>> = (0..40)
        .map(|i| {
            (0..(i * 7 + 1))
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect()
        })
        .collect();
    for s in ["{", "}", "[", "{\"cases\": [", "{\"a\":}", "\u{feff}\u{feff}{}", "{\"cases\": [1, \"x\", null, [], true]}", "true", "1e999", "{\"cases\": null}"] {
        bodies.push(s.as_bytes().to_vec());
    }
    for body in &bodies {
        let (st, h, b) = raw(a, "POST", "/api/v1/group?explain=true", body).await;
        assert!((200..500).contains(&st), "status {st} for {body:?}: {h} {b}");
        let v: Value = serde_json::from_str(&b).unwrap();
        if st >= 400 {
            assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
        }
    }
    // every field with a value of every JSON type: the case is answered (maybe 输入错误), never 5xx
    let values = [json!(null), json!(true), json!(-1), json!(1.5), json!("x"), json!([]), json!(["a", 1]), json!([{}]), json!({"k": 1}), json!("2025-13-45")];
    for f in casemix_model::Field::ALL {
        let cases: Vec<Value> = values.iter().map(|val| json!({ f.key(): val, f.label_zh(): val })).collect();
        let (st, v) = post(a, "/api/v1/group", &json!({ "cases": cases })).await;
        assert_eq!(st, 200, "{} {v}", f.key());
        assert_eq!(v["count"], values.len());
    }
    // the server still answers
    let (st, v) = post(a, "/api/v1/group", &appendicitis()).await;
    assert_eq!((st, v["drg"].as_str()), (200, Some("GD13")));
}

/// weights.csv with one DRG: GD13, RW 0.8, points 80, mean cost 10,000.00 yuan.
const WEIGHTS: &str = "drg,name,adrg,cases,cost_mean,cost_cv,los_mean,rw,points,source\nGD13,阑尾切除术，伴并发症或合并症,GD1,100,10000.00,0.30,6.0,0.8,80,calibrated\n";
const POLICY: &str = "[policy]\nregion = \"测试统筹区\"\nyear = 2025\nmodel = \"drg_points\"\n\n[budget]\ntotal_cost = \"100000000\"\n";

#[tokio::test]
async fn pricing_with_weights_and_policy() {
    // weights only: rw and base points from weights.csv, points = base points, no payment
    let mut s = state();
    s.pricing = Some(Arc::new(Pricing::new(WEIGHTS, None, None).unwrap()));
    let a = start(s).await;
    let (_, v) = post(a, "/api/v1/group", &appendicitis()).await;
    assert_eq!(v["drg"], "GD13");
    assert_eq!(v["rw"], "0.8");
    assert_eq!(v["base_points"], "80");
    assert_eq!(v["points"], "80");
    assert!(v.get("payment").is_none());
    let (_, h) = call(a, "GET", "/api/health", b"").await;
    assert_eq!(h["pricing"]["weights"], 1);

    // policy (defaults: coefficient 1, outlier thresholds far from ratio 1) and point value 12.5
    let policy = casemix_policy::parse(POLICY).expect("policy");
    let pv = casemix_pricing::Decimal::new(125, 1);
    let mut s = state();
    s.pricing = Some(Arc::new(Pricing::new(WEIGHTS, Some(policy), Some(pv)).unwrap()));
    let a = start(s).await;
    let mut c = appendicitis();
    c["total_cost"] = json!("10000.00");
    let (_, v) = post(a, "/api/v1/group?explain=true", &c).await;
    // cost ratio 10000.00 / 10000.00 = 1 → normal case: points = 80 × coefficient 1 = 80.0000;
    // payment = 80 × 12.5 yuan = 1000.00 yuan
    assert_eq!(v["rw"], "0.8");
    assert_eq!(v["points"], "80.0000", "{v}");
    assert_eq!(v["method"], "group");
    assert_eq!(v["payment"], "1000.00", "{v}");
    assert!(v["pricing_explanation"].as_str().unwrap().contains("80"));
    // an ungrouped case (no diagnoses) gets no rw but is still answered
    let (st, v) = post(a, "/api/v1/group", &json!({"list_id": "U1", "sex": 1, "age_years": 30})).await;
    assert_eq!(st, 200);
    assert_ne!(v["status"], "分组成功");
    assert!(v.get("rw").is_none());
}

#[tokio::test]
async fn amounts_outside_their_domain_are_refused_before_pricing() {
    let policy = casemix_policy::parse(POLICY).expect("policy");
    let mut s = state();
    s.pricing = Some(Arc::new(Pricing::new(WEIGHTS, Some(policy), Some(casemix_pricing::Decimal::new(125, 1))).unwrap()));
    let a = start(s).await;
    // 92233720368547758.07 yuan is i64::MAX fen: it used to panic in pricing (fen_of_yuan) and
    // drop the connection; 900000000000000.00 captured a region's budget; a negative total is
    // not a cost. The list-amount domain is 0.00–10000000.00 yuan (FieldDomains::default).
    for total in ["92233720368547758.07", "900000000000000.00", "-1.00", "10000000.01"] {
        let mut c = appendicitis();
        c["total_cost"] = json!(total);
        let (st, v) = post(a, "/api/v1/group", &c).await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["status"], "输入错误", "{total}: {v}");
        assert_eq!(v["errors"][0]["field"], "total_cost", "{v}");
        assert_eq!(v["errors"][0]["rule"], "out_of_domain", "{v}");
        assert!(v["message"].as_str().unwrap().contains(total), "{v}");
        assert!(v.get("payment").is_none());
    }
    // the upper bound itself is inside: 10,000,000.00 yuan is priced (a high outlier, still paid)
    let mut c = appendicitis();
    c["total_cost"] = json!("10000000.00");
    let (st, v) = post(a, "/api/v1/group", &c).await;
    assert_eq!((st, v["drg"].as_str()), (200, Some("GD13")), "{v}");
    assert!(v["payment"].is_string(), "{v}");
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
            "\\PC{0,12}".prop_map(Value::String),
            prop::sample::select(vec!["K35.300", "J18.900", "47.0100", "1", "2", "30", "2025-01-02 08:00", "九"]).prop_map(|s| json!(s)),
            // amounts at and beyond the i64 fen range, as text and as JSON numbers
            prop::sample::select(vec!["92233720368547758.07", "-92233720368547758.08", "92233720368547758.08", "900000000000000.00", "-0.01", "1e308", "10000000.01"]).prop_map(|s| json!(s)),
            prop::sample::select(vec![i64::MAX, i64::MIN, i64::MAX / 100, -1]).prop_map(|n| json!(n)),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        prop::sample::select(casemix_model::Field::ALL.iter().map(|f| f.key().to_string()).collect::<Vec<_>>()),
                        prop::sample::select(casemix_model::Field::ALL.iter().map(|f| f.label_zh().to_string()).collect::<Vec<_>>()),
                        Just("cases".to_string()),
                        "[a-z]{1,6}",
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn rt() -> &'static (tokio::runtime::Runtime, SocketAddr) {
        static RT: OnceLock<(tokio::runtime::Runtime, SocketAddr)> = OnceLock::new();
        RT.get_or_init(|| {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            // priced: weights, a policy and a point value loaded, so every amount reaches pricing
            let mut s = state();
            let policy = casemix_policy::parse(POLICY).expect("policy");
            s.pricing = Some(Arc::new(Pricing::new(WEIGHTS, Some(policy), Some(casemix_pricing::Decimal::new(125, 1))).unwrap()));
            let a = rt.block_on(start(s));
            (rt, a)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        /// Any JSON document or byte string: 2xx or 4xx with a JSON body, never 5xx.
        #[test]
        fn any_body_is_answered_without_5xx(v in json_value(), bytes in prop::collection::vec(any::<u8>(), 0..64), explain in any::<bool>()) {
            let (rt, a) = rt();
            let path = if explain { "/api/v1/group?explain=true" } else { "/api/v1/group" };
            for (i, body) in [v.to_string().into_bytes(), json!({"cases": [v.clone(), v.clone()]}).to_string().into_bytes(), bytes.clone()].into_iter().enumerate() {
                let (st, _, b) = rt.block_on(raw(*a, "POST", path, &body));
                prop_assert!((200..500).contains(&st), "status {} for {:?}", st, String::from_utf8_lossy(&body));
                let out: Value = serde_json::from_str(&b).unwrap();
                if st >= 400 {
                    prop_assert!(out["code"].is_string());
                } else if i == 1 {
                    // a batch of two: both answered, whatever they hold
                    prop_assert_eq!(out["results"].as_array().map(Vec::len), Some(2));
                }
            }
        }
    }
}
