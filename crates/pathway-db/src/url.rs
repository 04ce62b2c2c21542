//! Database URLs: parsing, `${VAR}` expansion, password lookup and redaction.
//!
//! Passwords never need to be written into audit.toml: `${VAR}` anywhere in a URL is replaced by
//! the environment variable, and a URL without a password takes it from where the database's own
//! tools look (`PGPASSWORD`, `PGPASSFILE` or `~/.pgpass` for PostgreSQL; `MYSQL_PWD` or the
//! `[client]` section of `~/.my.cnf` for MySQL). Whatever the source, the password is only ever
//! handed to the driver: [`DatabaseUrl::redacted`] is what reports and logs show.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Engine {
    /// PostgreSQL (`postgres://`, `postgresql://`).
    Postgres,
    /// MySQL or MariaDB (`mysql://`, `mariadb://`).
    Mysql,
}

impl Engine {
    /// The name users know it by.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::Mysql => "MySQL",
        }
    }

    /// The cargo feature that builds its support in.
    #[must_use]
    pub fn feature(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Engine::Postgres => 5432,
            Engine::Mysql => 3306,
        }
    }
}

/// A parsed connection URL. `Debug` and `Display` never show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// PostgreSQL or MySQL.
    pub engine: Engine,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User name.
    pub user: String,
    /// Database name.
    pub database: String,
    /// Query parameters (`sslmode=disable`, `schema=pathway`, ...), by name.
    pub params: BTreeMap<String, String>,
    password: Option<String>,
    redacted: String,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

/// Where passwords are looked up; the real environment and home folder, or a test's.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    /// Environment variables; `None` reads the process environment.
    pub env: Option<BTreeMap<String, String>>,
    /// Home folder for `~/.pgpass` and `~/.my.cnf`; `None` uses `$HOME`.
    pub home: Option<PathBuf>,
}

impl Lookup {
    fn var(&self, name: &str) -> Option<String> {
        match &self.env {
            Some(env) => env.get(name).cloned(),
            None => std::env::var(name).ok(),
        }
    }

    fn home(&self) -> Option<PathBuf> {
        self.home
            .clone()
            .or_else(|| self.var("HOME").map(PathBuf::from))
    }
}

impl DatabaseUrl {
    /// Parse `text`, expanding `${VAR}` from the environment and looking up a missing password.
    ///
    /// # Errors
    /// An unknown scheme, a malformed URL, or a `${VAR}` that is not set.
    pub fn parse(text: &str) -> Result<DatabaseUrl> {
        DatabaseUrl::parse_with(text, &Lookup::default())
    }

    /// [`DatabaseUrl::parse`] with the environment and home folder of `lookup`.
    ///
    /// # Errors
    /// As [`DatabaseUrl::parse`].
    pub fn parse_with(text: &str, lookup: &Lookup) -> Result<DatabaseUrl> {
        let shown = redact(text);
        let expanded = expand(text, lookup).map_err(|message| Error::Url {
            url: shown.clone(),
            message,
        })?;
        let bad = |message: String| Error::Url {
            url: shown.clone(),
            message,
        };
        let parsed = url::Url::parse(&expanded).map_err(|e| {
            bad(format!(
                "not a URL ({e}); write e.g. postgres://user@host:5432/db"
            ))
        })?;
        let engine = match parsed.scheme() {
            "postgres" | "postgresql" => Engine::Postgres,
            "mysql" | "mariadb" => Engine::Mysql,
            other => {
                return Err(bad(format!(
                    "`{other}://` is not a database this tool reads: use postgres:// or mysql://"
                )));
            }
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host: write e.g. postgres://user@127.0.0.1:5432/db".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = parsed.port().unwrap_or(engine.default_port());
        let database = decode(parsed.path().trim_start_matches('/'));
        if database.is_empty() || database.contains('/') {
            return Err(bad(
                "name one database after the host: postgres://user@host:5432/<database>".into(),
            ));
        }
        let os_user = lookup.var("USER");
        let user = match decode(parsed.username()) {
            u if !u.is_empty() => u,
            _ => match engine {
                Engine::Postgres => lookup.var("PGUSER").or(os_user),
                Engine::Mysql => os_user,
            }
            .unwrap_or_else(|| match engine {
                Engine::Postgres => "postgres".into(),
                Engine::Mysql => "root".into(),
            }),
        };
        let params: BTreeMap<String, String> = parsed
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let password = match parsed.password() {
            Some(p) => Some(decode(p)),
            None => match engine {
                Engine::Postgres => lookup
                    .var("PGPASSWORD")
                    .or_else(|| pgpass_password(lookup, &host, port, &database, &user)),
                Engine::Mysql => lookup.var("MYSQL_PWD").or_else(|| my_cnf_password(lookup)),
            },
        };
        Ok(DatabaseUrl {
            engine,
            host,
            port,
            user,
            database,
            params,
            password,
            redacted: shown,
        })
    }

    /// The URL as written, with any password replaced by `***`: what reports and logs show.
    #[must_use]
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// The password, for the driver only.
    #[must_use]
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// A query parameter.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// `text` with the password of a database URL replaced by `***` (see
/// [`pathway_mask::redact_url`]).
#[must_use]
pub fn redact(text: &str) -> String {
    pathway_mask::redact_url(text)
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Replace every `${NAME}` in `text` by the environment variable.
fn expand(text: &str, lookup: &Lookup) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "a `${` without its closing `}`".to_owned())?;
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`${{{name}}}` is not an environment variable name"));
        }
        let value = lookup
            .var(name)
            .ok_or_else(|| format!("the environment variable `{name}` is not set"))?;
        // A substituted value is data, not URL syntax: keep `@`, `:` and `/` from breaking it.
        out.extend(percent_encoding::utf8_percent_encode(
            &value,
            percent_encoding::NON_ALPHANUMERIC,
        ));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The password `~/.pgpass` (or `$PGPASSFILE`) gives for this connection: the first line whose
/// `host:port:database:user` fields match, `*` matching anything.
fn pgpass_password(
    lookup: &Lookup,
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Option<String> {
    let path = lookup
        .var("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| lookup.home().map(|h| h.join(".pgpass")))?;
    let text = std::fs::read_to_string(path).ok()?;
    let port = port.to_string();
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass(line);
        if fields.len() != 5 {
            continue;
        }
        let wanted = [host, port.as_str(), database, user];
        let matches = fields[..4]
            .iter()
            .zip(wanted)
            .all(|(field, value)| field == "*" || field == value);
        if matches {
            return Some(fields[4].clone());
        }
    }
    None
}

/// `.pgpass` fields are `:`-separated, with `\:` and `\\` escapes.
fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("one field").push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

/// `password` from the `[client]` section of `~/.my.cnf`.
fn my_cnf_password(lookup: &Lookup) -> Option<String> {
    let text = std::fs::read_to_string(lookup.home()?.join(".my.cnf")).ok()?;
    parse_my_cnf_password(&text)
}

fn parse_my_cnf_password(text: &str) -> Option<String> {
    let mut in_client = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_client = line == "[client]";
            continue;
        }
        if in_client
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "password"
        {
            let value = value.trim();
            let unquoted = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value);
            return Some(unquoted.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn lookup(vars: &[(&str, &str)], home: Option<&Path>) -> Lookup {
        Lookup {
            env: Some(
                vars.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            home: home.map(Path::to_path_buf),
        }
    }

    #[test]
    fn parses_hosts_ports_users_and_parameters() {
        let url = DatabaseUrl::parse_with(
            "postgres://audit@db.internal/sis?sslmode=disable&schema=pathway",
            &lookup(&[], None),
        )
        .unwrap();
        assert_eq!(url.engine, Engine::Postgres);
        assert_eq!(
            (url.host.as_str(), url.port, url.user.as_str()),
            ("db.internal", 5432, "audit")
        );
        assert_eq!(url.database, "sis");
        assert_eq!(url.param("sslmode"), Some("disable"));
        assert_eq!(url.param("schema"), Some("pathway"));
        assert_eq!(url.password(), None);

        let url = DatabaseUrl::parse_with(
            "mysql://127.0.0.1:3307/test",
            &lookup(&[("USER", "ci")], None),
        )
        .unwrap();
        assert_eq!(url.engine, Engine::Mysql);
        assert_eq!((url.port, url.user.as_str()), (3307, "ci"));
    }

    #[test]
    fn passwords_come_from_variables_and_never_show() {
        let env = [("PATHWAY_DB_PASS", "p@ss:w/rd"), ("PGPASSWORD", "fallback")];
        let url = DatabaseUrl::parse_with(
            "postgres://audit:${PATHWAY_DB_PASS}@127.0.0.1:5432/test",
            &lookup(&env, None),
        )
        .unwrap();
        assert_eq!(url.password(), Some("p@ss:w/rd"));
        assert_eq!(url.host, "127.0.0.1");
        assert_eq!(url.redacted(), "postgres://audit:***@127.0.0.1:5432/test");
        assert!(!format!("{url:?} {url}").contains("p@ss"));

        // Without one in the URL: PGPASSWORD.
        let url = DatabaseUrl::parse_with("postgres://audit@h/db", &lookup(&env, None)).unwrap();
        assert_eq!(url.password(), Some("fallback"));

        let written =
            DatabaseUrl::parse_with("mysql://root:hunter2@h/db", &lookup(&[], None)).unwrap();
        assert_eq!(written.password(), Some("hunter2"));
        assert_eq!(written.redacted(), "mysql://root:***@h/db");

        let err = DatabaseUrl::parse_with("postgres://a:${NOPE}@h/db", &lookup(&[], None))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`NOPE` is not set"), "{err}");
    }

    #[test]
    fn password_files_are_read_like_the_database_tools_do() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join(".pgpass"),
            "# comment\nother:5432:*:*:wrong\n127.0.0.1:5432:test:audit:pg\\:secret\n*:*:*:*:any\n",
        )
        .unwrap();
        std::fs::write(
            home.path().join(".my.cnf"),
            "[mysqld]\npassword = server\n[client]\nuser = root\npassword = \"my secret\"\n",
        )
        .unwrap();
        let l = lookup(&[], Some(home.path()));
        let pg = DatabaseUrl::parse_with("postgres://audit@127.0.0.1/test", &l).unwrap();
        assert_eq!(pg.password(), Some("pg:secret"));
        let pg = DatabaseUrl::parse_with("postgres://x@elsewhere/db", &l).unwrap();
        assert_eq!(pg.password(), Some("any"));
        let my = DatabaseUrl::parse_with("mysql://root@127.0.0.1/test", &l).unwrap();
        assert_eq!(my.password(), Some("my secret"));
    }

    #[test]
    fn mistakes_are_explained_without_the_password() {
        let l = lookup(&[], None);
        for (text, expected) in [
            ("oracle://u:pw@h/db", "`oracle://` is not a database"),
            ("postgres://u:pw@h", "name one database"),
            ("postgres://u:pw@h/a/b", "name one database"),
            ("not a url", "not a URL"),
        ] {
            let err = DatabaseUrl::parse_with(text, &l).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(!err.contains("pw@"), "{err}");
        }
        assert_eq!(
            redact("postgres://u:pw@h/db?x=1"),
            "postgres://u:***@h/db?x=1"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("schema.table"), "schema.table");
    }
}
