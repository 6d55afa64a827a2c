//! The two database backends behind [`crate::Store`]: SQLite (embedded, the default) and
//! PostgreSQL (`Store::open_postgres`), with one small portable API so that every store method
//! is written once.
//!
//! - SQL is written once with numbered placeholders `?1`, `?2`, … (SQLite's syntax); for
//!   PostgreSQL they are rewritten to `$1`, `$2`, … ([`crate::pg::rewrite_placeholders`]) outside
//!   string literals, quoted identifiers and comments. Values are always bound, never pasted.
//! - Parameters are [`Param`]s, built by the crate's `params![…]` macro from `i64`/`i32`/`u32`/
//!   `bool`, `&str`/`String`, `&[u8]`/`Vec<u8>` and `Option`s of those. Every parameter carries
//!   its type even when it is NULL (`Option<&str>` = `None` is a NULL *text*), so PostgreSQL
//!   never has to guess (`?1 IS NULL OR hospital_code = ?1` works on both).
//! - Results are read through [`Row::get`] into `i64`, `String`, `bool`, `Vec<u8>`, `u64`, `i32`
//!   and `Option`s of those ([`FromValue`]); PostgreSQL INT2/INT4/INT8 all read as `i64`, BOOL as
//!   0/1, TEXT/VARCHAR as `String`, BYTEA as bytes. Other column types are an error naming the
//!   column (write `CAST(SUM(x) AS BIGINT)`: on PostgreSQL `SUM(bigint)` is NUMERIC).
//! - [`Db::transaction`] is the only way to write several statements atomically. On SQLite it is
//!   `BEGIN IMMEDIATE` (one writer at a time); on PostgreSQL `BEGIN` plus a transaction-scoped
//!   advisory lock ([`crate::pg::WRITE_LOCK`]), so writers serialise exactly as on SQLite. A
//!   transaction that is dropped without [`Tx::commit`] rolls back.

use crate::pg::PgConn;
use crate::{Result, StoreError};

/// Which SQL dialect a [`Db`] speaks (for the rare statement that differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The type of a parameter, kept for NULLs too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Int,
    Text,
    Blob,
}

/// One bound parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param<'a> {
    Null(Kind),
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl Param<'_> {
    pub fn kind(&self) -> Kind {
        match self {
            Param::Null(k) => *k,
            Param::Int(_) => Kind::Int,
            Param::Text(_) => Kind::Text,
            Param::Blob(_) => Kind::Blob,
        }
    }
}

/// A Rust value that can be bound as a parameter (see the module docs for the list).
pub trait ToParam {
    const KIND: Kind;
    fn to_param(&self) -> Param<'_>;
}

impl ToParam for i64 {
    const KIND: Kind = Kind::Int;
    fn to_param(&self) -> Param<'_> {
        Param::Int(*self)
    }
}
impl ToParam for i32 {
    const KIND: Kind = Kind::Int;
    fn to_param(&self) -> Param<'_> {
        Param::Int(i64::from(*self))
    }
}
impl ToParam for u32 {
    const KIND: Kind = Kind::Int;
    fn to_param(&self) -> Param<'_> {
        Param::Int(i64::from(*self))
    }
}
/// Stored as 0/1 (INTEGER on both backends).
impl ToParam for bool {
    const KIND: Kind = Kind::Int;
    fn to_param(&self) -> Param<'_> {
        Param::Int(i64::from(*self))
    }
}
impl ToParam for str {
    const KIND: Kind = Kind::Text;
    fn to_param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl ToParam for String {
    const KIND: Kind = Kind::Text;
    fn to_param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl ToParam for [u8] {
    const KIND: Kind = Kind::Blob;
    fn to_param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl ToParam for Vec<u8> {
    const KIND: Kind = Kind::Blob;
    fn to_param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl<T: ToParam + ?Sized> ToParam for &T {
    const KIND: Kind = T::KIND;
    fn to_param(&self) -> Param<'_> {
        (**self).to_param()
    }
}
impl<T: ToParam> ToParam for Option<T> {
    const KIND: Kind = T::KIND;
    fn to_param(&self) -> Param<'_> {
        match self {
            Some(v) => v.to_param(),
            None => Param::Null(T::KIND),
        }
    }
}

/// `params![a, b, …]`: a `&[Param]` for [`Db`]'s methods (same spelling as rusqlite's macro).
macro_rules! params {
    () => {
        &[] as &[$crate::backend::Param<'_>]
    };
    ($($x:expr),+ $(,)?) => {
        &[$($crate::backend::ToParam::to_param(&$x)),+] as &[$crate::backend::Param<'_>]
    };
}
pub(crate) use params;

/// One column value as read from either backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "整数",
            Value::Text(_) => "文本",
            Value::Blob(_) => "二进制",
        }
    }
}

/// A Rust type a column can be read into.
pub trait FromValue: Sized {
    /// `Err` carries the expected type's description.
    fn from_value(v: Value) -> std::result::Result<Self, &'static str>;
}

impl FromValue for i64 {
    fn from_value(v: Value) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Int(i) => Ok(i),
            _ => Err("整数"),
        }
    }
}
impl FromValue for i32 {
    fn from_value(v: Value) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Int(i) => i32::try_from(i).map_err(|_| "32 位整数"),
            _ => Err("整数"),
        }
    }
}
impl FromValue for u64 {
    fn from_value(v: Value) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Int(i) => u64::try_from(i).map_err(|_| "非负整数"),
            _ => Err("整数"),
        }
    }
}
/// 0 = false, any other integer = true (SQLite has no BOOLEAN; PostgreSQL's BOOL reads as 0/1).
impl FromValue for bool {
    fn from_value(v: Value) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Int(i) => Ok(i != 0),
            _ => Err("布尔(0/1)"),
        }
    }
}
impl FromValue for String {
    fn from_value(v: Value) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Text(s) => Ok(s),
            _ => Err("文本"),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: Value) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Blob(b) => Ok(b),
            _ => Err("二进制"),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// One result row of either backend.
pub struct Row<'a>(RowInner<'a>);

enum RowInner<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

impl Row<'_> {
    /// Column `i` (0-based) as `T`; a NULL into a non-`Option`, or a type mismatch, is an error
    /// naming the column.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let (name, v) = match &self.0 {
            RowInner::Sqlite(r) => {
                let name = r
                    .as_ref()
                    .column_name(i)
                    .map(str::to_string)
                    .unwrap_or_else(|_| format!("#{i}"));
                let v = match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(n) => Value::Int(n),
                    rusqlite::types::ValueRef::Text(t) => {
                        Value::Text(String::from_utf8(t.to_vec()).map_err(|_| {
                            StoreError::Column(format!("列 {name} 不是有效的 UTF-8 文本"))
                        })?)
                    }
                    rusqlite::types::ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                    rusqlite::types::ValueRef::Real(_) => {
                        return Err(StoreError::Column(format!(
                            "列 {name} 是浮点数，存储层不读浮点数"
                        )))
                    }
                };
                (name, v)
            }
            RowInner::Pg(r) => {
                let name = r
                    .columns()
                    .get(i)
                    .map(|c| c.name().to_string())
                    .unwrap_or_else(|| format!("#{i}"));
                (name, crate::pg::column_value(r, i)?)
            }
        };
        let got = v.type_name();
        T::from_value(v)
            .map_err(|want| StoreError::Column(format!("列 {name} 应为{want}，实际为{got}")))
    }
}

/// Turns "no row" into `None` (as rusqlite's `OptionalExtension`): `db.query_row(…).optional()`.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(StoreError::NoRow) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A connection to either backend. All methods take `&self`; the PostgreSQL client sits in a
/// `RefCell` (the store is `Send`, not `Sync`, on both backends, like a rusqlite connection).
pub enum Db {
    Sqlite(rusqlite::Connection),
    Pg(PgConn),
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Pg(_) => Dialect::Postgres,
        }
    }

    /// Runs one statement; the number of rows changed.
    pub fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        match self {
            Db::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                Ok(st.execute(rusqlite::params_from_iter(params.iter().map(sqlite_value)))? as u64)
            }
            Db::Pg(p) => p.execute(sql, params),
        }
    }

    /// Runs several statements without parameters (DDL); no placeholder rewriting.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Pg(p) => p.execute_batch(sql),
        }
    }

    /// Every row, mapped by `f`, in the order the query returns them.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query_each(sql, params, |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` on every row in order (no intermediate `Vec` of mapped values).
    pub fn query_each(
        &self,
        sql: &str,
        params: &[Param<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Db::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let mut rows =
                    st.query(rusqlite::params_from_iter(params.iter().map(sqlite_value)))?;
                while let Some(r) = rows.next()? {
                    f(&Row(RowInner::Sqlite(r)))?;
                }
                Ok(())
            }
            Db::Pg(p) => {
                for r in p.query(sql, params)? {
                    f(&Row(RowInner::Pg(&r)))?;
                }
                Ok(())
            }
        }
    }

    /// The first row mapped by `f`; [`StoreError::NoRow`] if there is none (`.optional()`
    /// turns that into `None`).
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        match self {
            Db::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let mut rows =
                    st.query(rusqlite::params_from_iter(params.iter().map(sqlite_value)))?;
                match rows.next()? {
                    Some(r) => f(&Row(RowInner::Sqlite(r))),
                    None => Err(StoreError::NoRow),
                }
            }
            Db::Pg(p) => match p.query(sql, params)?.first() {
                Some(r) => f(&Row(RowInner::Pg(r))),
                None => Err(StoreError::NoRow),
            },
        }
    }

    /// Runs an `INSERT … RETURNING id` and returns the id (both backends support RETURNING;
    /// there is no portable `last_insert_rowid`).
    pub fn insert_returning_id(&self, sql: &str, params: &[Param<'_>]) -> Result<i64> {
        self.query_row(sql, params, |r| r.get(0))
    }

    /// Starts a write transaction (see the module docs); commit with [`Tx::commit`].
    pub fn transaction(&self) -> Result<Tx<'_>> {
        match self {
            Db::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Db::Pg(p) => p.begin()?,
        }
        Ok(Tx {
            db: self,
            done: false,
        })
    }
}

fn sqlite_value<'a>(p: &'a Param<'a>) -> rusqlite::types::ToSqlOutput<'a> {
    use rusqlite::types::{ToSqlOutput, ValueRef};
    ToSqlOutput::Borrowed(match *p {
        Param::Null(_) => ValueRef::Null,
        Param::Int(i) => ValueRef::Integer(i),
        Param::Text(s) => ValueRef::Text(s.as_bytes()),
        Param::Blob(b) => ValueRef::Blob(b),
    })
}

/// An open write transaction; derefs to [`Db`]. Dropped without commit = rolled back.
pub struct Tx<'a> {
    db: &'a Db,
    done: bool,
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.db.execute_batch("COMMIT")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            // a failed rollback leaves nothing committed either (the connection is then broken)
            let _ = self.db.execute_batch("ROLLBACK");
        }
    }
}

/// Brings the schema up to date with the backend's migrations, inside one write transaction
/// (so two processes opening the same database at once apply each migration once).
pub(crate) fn migrate(db: &Db) -> Result<()> {
    let (migrations, create, applied_at) = match db.dialect() {
        Dialect::Sqlite => (
            crate::MIGRATIONS,
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
            "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
        ),
        Dialect::Postgres => (
            crate::pg::MIGRATIONS,
            "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
            r#"to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"#,
        ),
    };
    if crate::pg::MIGRATIONS.len() != crate::MIGRATIONS.len() {
        return Err(StoreError::Column(format!(
            "程序错误：PostgreSQL 迁移 {} 个，SQLite 迁移 {} 个，两者必须一一对应",
            crate::pg::MIGRATIONS.len(),
            crate::MIGRATIONS.len()
        )));
    }
    let tx = db.transaction()?;
    tx.execute_batch(create)?;
    let current: i64 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        params![],
        |r| r.get(0),
    )?;
    let supported = migrations.len() as i64;
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    let insert =
        format!("INSERT INTO schema_version (version, applied_at) VALUES (?1, {applied_at})");
    for (i, sql) in migrations.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql)?;
        tx.execute(&insert, params![i as i64 + 1])?;
    }
    tx.commit()
}
