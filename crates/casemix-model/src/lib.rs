//! # casemix-model
//!
//! The data every other Casemix crate speaks: the inpatient settlement list
//! ([`SettlementList`]), outpatient/pharmacy claims ([`Claim`]), itemised charges ([`ChargeItem`]), coded values ([`codes`]) and
//! money as integer fen ([`Fen`]), and the domains every numeric field must lie in
//! ([`FieldDomains`], checked with `domain_violations`). Pure: no I/O, no clocks, no globals.

pub mod charge;
pub mod claim;
pub mod codes;
pub mod dept;
pub mod domain;
pub mod money;
pub mod settlement;

pub use charge::{ChargeItem, CHARGE_COLUMNS};
pub use claim::{Claim, CLAIM_COLUMNS};
pub use codes::*;
pub use domain::{Bounds, DomainViolation, FieldDomains};
pub use money::{AmountError, Centi, Fen};
pub use settlement::{FeeKind, Field, FieldError, FieldKind, GroupInput, SettlementList};
