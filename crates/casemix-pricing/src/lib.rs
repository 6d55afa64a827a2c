//! # casemix-pricing
//!
//! Turns a grouped case into points (or money at cost) under a payment policy: payment method
//! (group, per-bed-day, day surgery, fee-for-service fallback, special case, not paid), base
//! points, coefficient, outlier rule, final points, each step with a reason code and a Chinese
//! line. Exact decimals throughout; case points are rounded half-up to 4 decimals. Also the
//! largest-remainder apportionment every exact split of money uses. Pure: no I/O.

pub mod price;
pub mod rates;
pub mod step;

pub use price::{apportion, fen_of_yuan, mul_fen, try_fen_of_yuan, yuan_of_fen, CaseFlags, CaseInput, CasePrice, Pricer, Refusal, MAX_CASE_POINTS, POINTS_DP, POINTS_UNIT};
pub use rates::{div_round_half_up, hospitals_from_csv, GroupRate, Hospital, RateError, RateSource, RateTable};
pub use rust_decimal::Decimal;
pub use step::{Method, Outlier, Step};
