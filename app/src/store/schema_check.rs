//! Checks `schema.rs` against the migrations: regenerates the schema from a freshly
//! migrated database of each engine, the way `diesel print-schema` would, and compares
//! (ignoring whitespace and comments). With `GATEHOUSE_WRITE_SCHEMA=1` (`make schema`)
//! the SQLite check writes the file instead of comparing.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use crate::store::{Database, DatabaseOptions, DatabaseUrl, DbConnection, testing};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct ColumnInfo {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    r#type: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Text)]
    from: String,
}

fn diesel_type(sql_type: &str) -> &'static str {
    match sql_type.to_ascii_uppercase().as_str() {
        "TEXT" => "Text",
        "TIMESTAMP" | "TIMESTAMP WITHOUT TIME ZONE" => "Timestamp",
        "BLOB" | "BYTEA" => "Binary",
        "BIGINT" => "BigInt",
        "INTEGER" => "Integer",
        "BOOLEAN" => "Bool",
        other => panic!("no Diesel type mapped for SQL type {other}"),
    }
}

/// The catalogue queries of each engine, all answering with the same columns.
struct Catalogue {
    tables: &'static str,
    /// `{table}` is replaced by the table name.
    columns: &'static str,
    foreign_keys: &'static str,
}

const SQLITE: Catalogue = Catalogue {
    tables: "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name != '__diesel_schema_migrations'",
    columns: "SELECT name, type, \"notnull\", pk FROM pragma_table_info('{table}') ORDER BY cid",
    foreign_keys: "SELECT \"table\", \"from\" FROM pragma_foreign_key_list('{table}') ORDER BY id",
};

const POSTGRES: Catalogue = Catalogue {
    tables: "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
             AND table_name != '__diesel_schema_migrations'",
    columns: "SELECT c.column_name::text AS name, c.data_type::text AS type, \
              (c.is_nullable = 'NO')::int AS \"notnull\", \
              (EXISTS (SELECT 1 FROM information_schema.table_constraints t \
                JOIN information_schema.key_column_usage k \
                  ON k.constraint_name = t.constraint_name AND k.table_name = t.table_name \
                WHERE t.table_name = c.table_name AND t.constraint_type = 'PRIMARY KEY' \
                  AND k.column_name = c.column_name))::int AS pk \
              FROM information_schema.columns c \
              WHERE c.table_schema = 'public' AND c.table_name = '{table}' \
              ORDER BY c.ordinal_position",
    foreign_keys: "SELECT u.table_name::text AS \"table\", k.column_name::text AS \"from\" \
                   FROM information_schema.table_constraints t \
                   JOIN information_schema.key_column_usage k ON k.constraint_name = t.constraint_name \
                   JOIN information_schema.constraint_column_usage u ON u.constraint_name = t.constraint_name \
                   WHERE t.constraint_type = 'FOREIGN KEY' AND t.table_name = '{table}' \
                   ORDER BY k.ordinal_position",
};

fn generate(conn: &mut DbConnection) -> String {
    let catalogue = match conn {
        DbConnection::Sqlite(_) => SQLITE,
        DbConnection::Postgres(_) => POSTGRES,
    };
    let mut tables: Vec<Name> = diesel::sql_query(catalogue.tables).load(conn).unwrap();
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::new();
    let mut joins = Vec::new();
    for Name { name: table } in &tables {
        let columns: Vec<ColumnInfo> =
            diesel::sql_query(catalogue.columns.replace("{table}", table))
                .load(conn)
                .unwrap();
        let key: Vec<&str> = columns
            .iter()
            .filter(|c| c.pk > 0)
            .map(|c| c.name.as_str())
            .collect();
        out += &format!("diesel::table! {{\n    {table} ({}) {{\n", key.join(", "));
        for c in &columns {
            let ty = diesel_type(&c.r#type);
            let nullable = c.notnull == 0 && c.pk == 0;
            let ty = if nullable {
                format!("Nullable<{ty}>")
            } else {
                ty.to_owned()
            };
            out += &format!("        {} -> {ty},\n", c.name);
        }
        out += "    }\n}\n\n";
        let fks: Vec<ForeignKey> =
            diesel::sql_query(catalogue.foreign_keys.replace("{table}", table))
                .load(conn)
                .unwrap();
        joins.extend(fks.into_iter().map(|fk| {
            format!(
                "diesel::joinable!({table} -> {} ({}));\n",
                fk.table, fk.from
            )
        }));
    }
    joins.sort();
    out += &joins.concat();
    if !joins.is_empty() {
        out += "\n";
    }
    out += "diesel::allow_tables_to_appear_in_same_query!(\n";
    for table in &tables {
        out += &format!("    {},\n", table.name);
    }
    out += ");\n";
    out
}

/// Drops comments and all whitespace, so formatting never matters.
fn normalise(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//") && !l.trim_start().starts_with("#!["))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The start of `schema.rs`, above the generated tables.
const HEADER: &str = "\
//! The Diesel view of the tables the migrations create. Generated: after adding a
//! migration, run `make schema` to rewrite this file from a freshly migrated database.
//! `store::schema_check` fails when it is out of date with either dialect.
#![allow(missing_docs)]

";

fn assert_schema_rs_matches(url: &DatabaseUrl) {
    let db = Database::open(url, DatabaseOptions::default()).unwrap();
    let generated = generate(&mut db.pool.get().unwrap());
    if std::env::var_os("GATEHOUSE_WRITE_SCHEMA").is_some() && matches!(url, DatabaseUrl::Sqlite(_))
    {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/schema.rs");
        std::fs::write(&path, format!("{HEADER}{generated}")).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let file = include_str!("schema.rs");
    assert_eq!(
        normalise(&generated),
        normalise(file),
        "app/src/store/schema.rs is out of date; the {url} migrations describe:\n\n{generated}"
    );
}

#[test]
fn schema_rs_matches_the_sqlite_migrations() {
    let dir = tempfile::tempdir().unwrap();
    assert_schema_rs_matches(&DatabaseUrl::sqlite_in(dir.path()));
}

#[test]
fn schema_rs_matches_the_postgres_migrations() {
    let Some(admin) = testing::postgres_admin_url() else {
        return;
    };
    assert_schema_rs_matches(&DatabaseUrl::Postgres(testing::fresh_postgres_database(
        &admin,
    )));
}
