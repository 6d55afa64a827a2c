//! The page frame: header with the region, navigation by role, the user and logout; CSS and
//! the small script that sorts tables (no external assets: the UI works offline).

use casemix_store::{Role, User};
use maud::{html, Markup, PreEscaped, DOCTYPE};

pub const CSS: &str = r#"
*{box-sizing:border-box}body{margin:0;font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;font-size:14px;color:#1f2937;background:#f5f7fa}
header{background:#0b5394;color:#fff;display:flex;align-items:center;gap:24px;padding:0 20px;height:52px}
header .brand{font-weight:700;font-size:17px}header nav a{color:#dbe8f7;text-decoration:none;margin-right:14px}
header nav a.on{color:#fff;font-weight:700;border-bottom:2px solid #fff;padding-bottom:4px}header .who{margin-left:auto;font-size:13px}
header form{display:inline}header button{background:transparent;border:1px solid #dbe8f7;color:#fff;border-radius:3px;padding:2px 8px;cursor:pointer}
main{padding:18px 22px;max-width:1400px}h1{font-size:20px;margin:4px 0 14px}h2{font-size:16px;margin:22px 0 8px;border-left:4px solid #0b5394;padding-left:8px}
table{border-collapse:collapse;background:#fff;margin:6px 0 12px;font-size:13px}th,td{border:1px solid #d9dee5;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef2f7;white-space:nowrap}table.sortable th{cursor:pointer}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}.card{background:#fff;border:1px solid #d9dee5;border-radius:6px;padding:10px 14px;min-width:150px}
.card .v{font-size:20px;font-weight:700;color:#0b5394}.card .k{color:#6b7280;font-size:12px}
.err{color:#b91c1c}.warn{color:#b45309}.ok{color:#15803d}.muted{color:#6b7280}
.box{background:#fff;border:1px solid #d9dee5;border-radius:6px;padding:12px 16px;margin:10px 0}
.alert{background:#fef2f2;border:1px solid #fecaca;color:#991b1b;padding:10px 14px;border-radius:6px;margin:10px 0}
.notice{background:#ecfdf5;border:1px solid #a7f3d0;color:#065f46;padding:10px 14px;border-radius:6px;margin:10px 0}
label{display:inline-block;margin:4px 12px 4px 0}input,select,textarea{font:inherit;padding:3px 6px}button.primary,input[type=submit]{background:#0b5394;color:#fff;border:0;border-radius:4px;padding:5px 14px;cursor:pointer}
pre.trace{background:#0f172a;color:#e2e8f0;padding:10px;border-radius:6px;overflow:auto;font-size:12px;line-height:1.5}
.bar{height:14px;background:#e5e7eb;border-radius:7px;overflow:hidden;width:320px}.bar>div{height:100%;background:#0b5394}
a{color:#0b5394}
"#;

/// Sorts a table by a clicked header (numbers numerically, text by locale), toggling direction.
pub const SORT_JS: &str = r#"
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var b=t.tBodies[0];if(!b)return;var rows=Array.from(b.rows);var asc=th.dataset.dir!=='asc';
      t.querySelectorAll('th').forEach(function(x){delete x.dataset.dir});th.dataset.dir=asc?'asc':'desc';
      var num=function(s){var v=parseFloat(String(s).replace(/[,%￥元\s]/g,''));return isNaN(v)?null:v};
      rows.sort(function(r1,r2){var a=r1.cells[i]?r1.cells[i].innerText:'',c=r2.cells[i]?r2.cells[i].innerText:'';
        var x=num(a),y=num(c);var k=(x!==null&&y!==null)?x-y:a.localeCompare(c,'zh');return asc?k:-k});
      rows.forEach(function(r){b.appendChild(r)});
    });
  });
});
"#;

/// Navigation entries: (path, label, who sees it).
fn nav(role: Role) -> Vec<(&'static str, &'static str)> {
    let mut v = vec![("/monitor", "运行监测")];
    if role == Role::HospitalUser {
        v.push(("/hospital", "本院病例"));
    }
    v.push(("/uploads", "数据上传与质控"));
    v.push(("/review", if role == Role::BureauAuditor || role == Role::BureauAdmin { "审核复核" } else { "审核结果" }));
    v.push(("/statements", "结算单"));
    if role == Role::BureauAdmin {
        v.push(("/runs", "年度计算"));
        v.push(("/audit-log", "操作日志"));
        v.push(("/admin/lockouts", "登录锁定"));
    }
    v
}

/// A whole page.
pub fn page(title: &str, region: &str, user: Option<&User>, csrf: &str, active: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Casemix " (region) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    span.brand { "Casemix 医保支付工作台 · " (region) }
                    @if let Some(u) = user {
                        nav {
                            @for (href, label) in nav(u.role) {
                                a href=(href) class=[(href == active).then_some("on")] { (label) }
                            }
                        }
                        span.who #who {
                            (u.display_name) "（" (u.role.label_zh())
                            @if let Some(h) = &u.hospital_code { " · " (h) }
                            "） "
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" #logout { "退出" }
                            }
                        }
                    }
                }
                main { h1 { (title) } (body) }
                script { (PreEscaped(SORT_JS)) }
            }
        }
    }
}

/// Yuan with two decimals from fen, thousands separated (the case lake's formatter, shared).
pub use casemix_lake::ratio::yuan;

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn yuan_formats_fen() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(123_456_789), "1,234,567.89");
        assert_eq!(yuan(-100_050), "-1,000.50");
    }
    #[test]
    fn page_escapes_user_text() {
        let u = User { id: 1, login: "x".into(), display_name: "<script>alert(1)</script>".into(), role: Role::BureauAdmin, hospital_code: None };
        let s = page("<b>标题</b>", "R", Some(&u), "t", "/monitor", html! {}).into_string();
        assert!(!s.contains("<script>alert(1)"));
        assert!(s.contains("&lt;script&gt;alert(1)"));
        assert!(s.contains("&lt;b&gt;标题"));
    }
}
