//! The hospital view: one hospital's cases (paged, sorted by a whitelisted column, filtered), its
//! payment against cost (盈亏, defined in [`crate::dashboard`]), its departments, and its indicators
//! against the pooled figures of its tier in its region.

use crate::dashboard::{fetch, region_refs, roll_up, Indicators, UnitBy, UnitRow};
use crate::lake::{ints, strs, Filter};
use crate::period::{validate_code, validate_label};
use crate::{CaseRow, Lake, LakeError, Range};
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::prelude::*;

/// Columns the case list may be sorted by (the only sort keys a request can name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SortColumn {
    DischargeDate,
    ListId,
    Department,
    Drg,
    Weight,
    Points,
    TotalCost,
    Payment,
    Profit,
    Los,
    Flags,
    FlagAmount,
}

impl SortColumn {
    pub const ALL: [SortColumn; 12] = [
        SortColumn::DischargeDate,
        SortColumn::ListId,
        SortColumn::Department,
        SortColumn::Drg,
        SortColumn::Weight,
        SortColumn::Points,
        SortColumn::TotalCost,
        SortColumn::Payment,
        SortColumn::Profit,
        SortColumn::Los,
        SortColumn::Flags,
        SortColumn::FlagAmount,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SortColumn::DischargeDate => "discharge_date",
            SortColumn::ListId => "list_id",
            SortColumn::Department => "department",
            SortColumn::Drg => "drg",
            SortColumn::Weight => "weight",
            SortColumn::Points => "points",
            SortColumn::TotalCost => "total_cost",
            SortColumn::Payment => "payment",
            SortColumn::Profit => "profit",
            SortColumn::Los => "los",
            SortColumn::Flags => "flags",
            SortColumn::FlagAmount => "flag_amount",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            SortColumn::DischargeDate => "出院日期",
            SortColumn::ListId => "结算清单号",
            SortColumn::Department => "出院科别",
            SortColumn::Drg => "病组",
            SortColumn::Weight => "权重",
            SortColumn::Points => "点数",
            SortColumn::TotalCost => "医疗总费用",
            SortColumn::Payment => "病组支付",
            SortColumn::Profit => "盈亏",
            SortColumn::Los => "住院天数",
            SortColumn::Flags => "审核标记数",
            SortColumn::FlagAmount => "疑点金额",
        }
    }

    /// Parses a sort key; anything not in the whitelist is an error.
    pub fn parse(s: &str) -> Result<SortColumn, LakeError> {
        SortColumn::ALL.into_iter().find(|c| c.code() == s).ok_or_else(|| LakeError::Invalid {
            field: "sort",
            value: s.chars().take(40).collect(),
            rule: "排序列须为 discharge_date、list_id、department、drg、weight、points、total_cost、payment、profit、los、flags、flag_amount 之一",
        })
    }

    fn expr(self) -> Expr {
        match self {
            SortColumn::DischargeDate => col("discharge_date"),
            SortColumn::ListId => col("list_id"),
            SortColumn::Department => col("department"),
            SortColumn::Drg => col("drg"),
            SortColumn::Weight => col("weight_units"),
            SortColumn::Points => col("points_units"),
            SortColumn::TotalCost => col("total_cost_fen"),
            SortColumn::Payment => col("payment_fen"),
            SortColumn::Profit => col("payment_fen") - col("total_cost_fen"),
            SortColumn::Los => col("los_days"),
            SortColumn::Flags => col("flags"),
            SortColumn::FlagAmount => col("flag_amount_fen"),
        }
    }
}

/// Default and largest page sizes of the case list.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

/// What the hospital view is asked for. The department / group / flagged filters apply to the case
/// list only; the indicators and the department table always cover the whole hospital and period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HospitalQuery {
    pub hospital: String,
    pub range: Range,
    pub department: Option<String>,
    pub drg: Option<String>,
    pub flagged_only: bool,
    pub sort: SortColumn,
    pub descending: bool,
    /// 1-based page number.
    pub page: u32,
    pub page_size: u32,
}

impl HospitalQuery {
    /// Page 1 of the hospital's cases in `range`, latest discharge first.
    pub fn new(hospital: &str, range: Range) -> HospitalQuery {
        HospitalQuery {
            hospital: hospital.to_string(),
            range,
            department: None,
            drg: None,
            flagged_only: false,
            sort: SortColumn::DischargeDate,
            descending: true,
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// Builds the query from the URL parameters the hospital page's form and links send
    /// (`dept`, `drg`, `flagged`, `sort`, `desc`, `page`; an empty value means "not given"),
    /// validating each; the range is parsed by the caller (`Range::parse(from, to)`).
    #[allow(clippy::too_many_arguments)]
    pub fn from_params(
        hospital: &str,
        range: Range,
        dept: Option<&str>,
        drg: Option<&str>,
        flagged: Option<&str>,
        sort: Option<&str>,
        desc: Option<&str>,
        page: Option<&str>,
    ) -> Result<HospitalQuery, LakeError> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let mut q = HospitalQuery::new(hospital, range);
        q.department = given(dept).map(str::to_string);
        q.drg = given(drg).map(str::to_string);
        q.flagged_only = matches!(given(flagged), Some("1" | "true" | "on"));
        if let Some(s) = given(sort) {
            q.sort = SortColumn::parse(s)?;
        }
        q.descending = !matches!(given(desc), Some("0" | "false"));
        if let Some(p) = given(page) {
            q.page = p.parse().map_err(|_| LakeError::Invalid {
                field: "page",
                value: p.chars().take(20).collect(),
                rule: "页码须为正整数",
            })?;
        }
        q.validate()?;
        Ok(q)
    }

    fn validate(&self) -> Result<(), LakeError> {
        validate_code("hospital_code", &self.hospital)?;
        if let Some(d) = &self.department {
            validate_label("department", d)?;
        }
        if let Some(g) = &self.drg {
            validate_code("drg", g)?;
        }
        if self.page == 0 {
            return Err(LakeError::Invalid {
                field: "page",
                value: "0".into(),
                rule: "页码从 1 开始",
            });
        }
        if self.page_size == 0 || self.page_size > MAX_PAGE_SIZE {
            return Err(LakeError::Invalid {
                field: "page_size",
                value: self.page_size.to_string(),
                rule: "每页条数须在 1–500 之间",
            });
        }
        Ok(())
    }
}

/// One page of the case list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CasePage {
    pub rows: Vec<CaseRow>,
    /// Cases matching the filters (all pages).
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

impl CasePage {
    /// Number of pages (at least 1).
    pub fn pages(&self) -> u32 {
        let n = (self.total.max(0) as u64).div_ceil(self.page_size.max(1) as u64);
        n.max(1).min(u32::MAX as u64) as u32
    }
}

/// The hospital view.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HospitalView {
    pub hospital_code: String,
    pub hospital_name: String,
    pub tier: String,
    pub region: String,
    pub query: HospitalQuery,
    /// The hospital's indicators over the period (every case, whatever the list filters).
    pub indicators: Indicators,
    /// The pooled indicators of every hospital of the same tier in the same region over the period
    /// (this hospital included): aggregate numbers only, no other hospital's identity.
    pub tier_average: Indicators,
    /// How many hospitals the tier figures pool.
    pub tier_hospitals: i64,
    /// Department breakdown, most cases first.
    pub departments: Vec<UnitRow>,
    pub cases: CasePage,
}

impl Lake {
    /// The hospital view of `q.hospital`. With `scope = Some(h)`, asking for another hospital is
    /// [`LakeError::OutOfScope`]; a hospital with no case in the lake is [`LakeError::NotFound`].
    pub async fn hospital_view(
        &self,
        scope: Option<&str>,
        q: &HospitalQuery,
    ) -> Result<HospitalView, LakeError> {
        q.validate()?;
        if let Some(s) = scope {
            validate_code("scope", s)?;
            if s != q.hospital {
                return Err(LakeError::OutOfScope {
                    hospital: q.hospital.clone(),
                });
            }
        }
        let scope = scope.map(str::to_string);
        // identity: the hospital's latest row (any period)
        let who = Filter {
            scope: scope.clone(),
            hospital: Some(q.hospital.clone()),
            ..Filter::default()
        };
        let batches = self
            .frame(&who)?
            .sort(vec![
                col("year").sort(false, false),
                col("month").sort(false, false),
            ])?
            .limit(0, Some(1))?
            .select(vec![col("hospital_name"), col("tier"), col("region")])?
            .collect()
            .await?;
        let batch =
            batches
                .iter()
                .find(|b| b.num_rows() > 0)
                .ok_or_else(|| LakeError::NotFound {
                    hospital: q.hospital.clone(),
                })?;
        let (hospital_name, tier, region) = (
            strs(batch, "hospital_name")?.remove(0),
            strs(batch, "tier")?.remove(0),
            strs(batch, "region")?.remove(0),
        );

        let refs = region_refs(self, Some(&region), q.range).await?;
        let mine = Filter {
            scope: scope.clone(),
            hospital: Some(q.hospital.clone()),
            range: Some(q.range),
            ..Filter::default()
        };
        let departments = roll_up(&fetch(self, &mine, true).await?, UnitBy::Department, &refs);
        let indicators = departments.totals.clone();
        let departments = departments.units;

        // the tier yardstick: unscoped on purpose, rolled up to one set of sums, identities dropped
        let peers = Filter {
            region: Some(region.clone()),
            tier: Some(tier.clone()),
            range: Some(q.range),
            ..Filter::default()
        };
        let (tier_average, tier_hospitals) = if tier.is_empty() {
            (Indicators::default(), 0)
        } else {
            let cells = fetch(self, &peers, false).await?;
            let n = cells
                .iter()
                .map(|c| c.hospital.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len() as i64;
            (roll_up(&cells, UnitBy::Tier, &refs).totals, n)
        };

        // the case list
        let list = Filter {
            department: q.department.clone(),
            drg: q.drg.clone(),
            flagged_only: q.flagged_only,
            ..mine
        };
        let counted = self
            .frame(&list)?
            .aggregate(vec![], vec![count(lit(1i64)).alias("n")])?
            .collect()
            .await?;
        let total = counted
            .iter()
            .map(|b| ints(b, "n").map(|v| v.iter().sum::<i64>()))
            .sum::<Result<i64, _>>()?;
        let offset = (q.page as usize - 1) * q.page_size as usize;
        let batches = self
            .frame(&list)?
            .sort(vec![
                q.sort.expr().sort(!q.descending, false),
                col("list_id").sort(true, false),
            ])?
            .limit(offset, Some(q.page_size as usize))?
            .collect()
            .await?;
        let rows = Lake::rows_of(&batches)?;

        Ok(HospitalView {
            hospital_code: q.hospital.clone(),
            hospital_name,
            tier,
            region,
            query: q.clone(),
            indicators,
            tier_average,
            tier_hospitals,
            departments,
            cases: CasePage {
                rows,
                total,
                page: q.page,
                page_size: q.page_size,
            },
        })
    }

    /// One case by its identity (定点医药机构编号, 结算清单号) — a list id alone is not unique
    /// across hospitals — within the scope; None when absent or out of scope.
    pub async fn case(
        &self,
        scope: Option<&str>,
        hospital_code: &str,
        list_id: &str,
    ) -> Result<Option<CaseRow>, LakeError> {
        validate_code("hospital_code", hospital_code)?;
        validate_code("list_id", list_id)?;
        let f = Filter {
            scope: scope.map(str::to_string),
            ..Filter::default()
        };
        let batches = self
            .frame(&f)?
            .filter(
                col("hospital_code")
                    .eq(lit(hospital_code))
                    .and(col("list_id").eq(lit(list_id))),
            )?
            .limit(0, Some(1))?
            .collect()
            .await?;
        Ok(Lake::rows_of(&batches)?.into_iter().next())
    }
}
