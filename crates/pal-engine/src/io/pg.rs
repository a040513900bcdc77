//! A PostgreSQL connection as an NHS analyst gives one: a URL
//! (`postgres://user@host:port/db`) or `key=value` string, with whatever it leaves out taken
//! from the standard environment variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`,
//! `PGPASSWORD`, `PGPASSFILE` or `~/.pgpass`), as `psql` does.
//!
//! A password is never shown: a connection is named by [`PgConnection::shown`] (user, host,
//! port and database only), every URL in a message goes through [`redact_url`], and error text
//! from the server or the client has the password itself scrubbed out.

use postgres::config::Host;
use postgres::{Client, Config, NoTls};
use std::path::{Path, PathBuf};

/// Where and as whom to connect.
#[derive(Clone)]
pub struct PgConnection {
    config: Config,
    shown: String,
}

impl std::fmt::Debug for PgConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgConnection({})", self.shown)
    }
}

/// `url` with any password replaced by `***`: the `user:password@` of a URL and a
/// `password=` parameter or `key=value` pair.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    // user:password@host
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    // password=… in a query string or a key=value string.
    let lower = out.to_ascii_lowercase();
    let mut result = String::with_capacity(out.len());
    let mut i = 0;
    while let Some(found) = lower[i..].find("password=") {
        let start = i + found + "password=".len();
        let before_ok =
            i + found == 0 || matches!(lower.as_bytes()[i + found - 1], b'?' | b'&' | b' ' | b'\t');
        result.push_str(&out[i..start]);
        if !before_ok {
            i = start;
            continue;
        }
        let bytes = out.as_bytes();
        let mut end = start;
        if bytes.get(start) == Some(&b'\'') {
            end += 1;
            while end < bytes.len() && bytes[end] != b'\'' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            end = (end + 1).min(bytes.len());
        } else {
            while end < bytes.len() && !matches!(bytes[end], b'&' | b' ' | b'\t') {
                end += 1;
            }
        }
        result.push_str("***");
        i = end;
    }
    result.push_str(&out[i..]);
    result
}

/// Whether `url` carries a password (which the command line refuses: other users can read a
/// process's arguments).
pub fn url_has_password(url: &str) -> bool {
    redact_url(url) != url
}

impl PgConnection {
    /// From a URL or `key=value` string, with what it leaves out from the environment
    /// (`env` looks a variable up: `|k| std::env::var(k).ok()` in a front end).
    pub fn new(url: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut config = match url {
            Some(u) => u.parse::<Config>().map_err(|e| {
                format!(
                    "`{}` is not a PostgreSQL connection URL: {}",
                    redact_url(u),
                    redact_url(&e.to_string())
                )
            })?,
            None => Config::new(),
        };
        if config.get_hosts().is_empty() {
            match env("PGHOST").filter(|h| !h.is_empty()) {
                Some(h) => {
                    for host in h.split(',') {
                        config.host(host);
                    }
                }
                None => {
                    // libpq's default: the local socket directory, else localhost.
                    let socket = Path::new("/var/run/postgresql");
                    if socket.is_dir() {
                        config.host_path(socket);
                    } else {
                        config.host("localhost");
                    }
                }
            }
        }
        if config.get_ports().is_empty() {
            if let Some(p) = env("PGPORT").filter(|p| !p.is_empty()) {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| format!("PGPORT `{p}` is not a port number"))?;
                config.port(port);
            }
        }
        if config.get_user().is_none() {
            match env("PGUSER")
                .or_else(|| env("USER"))
                .filter(|u| !u.is_empty())
            {
                Some(u) => config.user(&u),
                None => return Err("no PostgreSQL user: give one in the URL or PGUSER".into()),
            };
        }
        if config.get_dbname().is_none() {
            if let Some(d) = env("PGDATABASE").filter(|d| !d.is_empty()) {
                config.dbname(&d);
            }
        }
        if config.get_password().is_none() {
            if let Some(p) = env("PGPASSWORD") {
                config.password(p);
            } else if let Some(p) = pgpass_password(&config, &env) {
                config.password(p);
            }
        }
        if config.get_application_name().is_none() {
            config.application_name("pal");
        }
        let shown = shown(&config);
        Ok(PgConnection { config, shown })
    }

    /// The connection as it is named in messages: `postgres://user@host:port/db`, never with
    /// a password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Connects (without TLS: for a server on the same host or a trusted network).
    pub fn connect(&self) -> Result<Client, String> {
        self.config.connect(NoTls).map_err(|e| {
            format!(
                "cannot connect to {}: {}",
                self.shown,
                self.scrub(&describe(&e))
            )
        })
    }

    /// An error's text, with the password (if it somehow appears) replaced by `***`.
    pub fn scrub(&self, e: &dyn std::fmt::Display) -> String {
        let text = redact_url(&e.to_string());
        match self
            .config
            .get_password()
            .and_then(|p| std::str::from_utf8(p).ok())
            .filter(|p| !p.is_empty())
        {
            Some(p) => text.replace(p, "***"),
            None => text,
        }
    }
}

fn shown(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    format!(
        "postgres://{}@{host}{port}/{}",
        config.get_user().unwrap_or(""),
        config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or_default()
    )
}

/// The password `~/.pgpass` (or `PGPASSFILE`) gives for this connection: lines of
/// `host:port:database:user:password`, `*` matching anything, `\:` and `\\` escaped.
fn pgpass_password(config: &Config, env: &impl Fn(&str) -> Option<String>) -> Option<String> {
    let path = env("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".pgpass")))?;
    let text = std::fs::read_to_string(path).ok()?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default();
    let db = config.get_dbname().unwrap_or(user);
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut fields = Vec::new();
        let mut cur = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => cur.extend(chars.next()),
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        fields.push(cur);
        if fields.len() != 5 {
            continue;
        }
        let ok = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        if ok(&fields[0], &host)
            && ok(&fields[1], &port)
            && ok(&fields[2], db)
            && ok(&fields[3], user)
        {
            return fields.pop();
        }
    }
    None
}

/// A client error's text: the server's own message (and detail) for a database error, which
/// the client's `Display` reduces to "db error", else the error and its causes.
pub fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = db.message().to_string();
        if let Some(d) = db.detail() {
            text.push_str(&format!(" ({d})"));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// A table name, `name` or `schema.name`, quoted for SQL (each part double-quoted, quotes
/// doubled), or why not.
pub fn quote_table(name: &str) -> Result<String, String> {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() > 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "`{}` is not a table name: use `name` or `schema.name`",
            crate::base::text::excerpt(name)
        ));
    }
    Ok(parts
        .iter()
        .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_wherever_a_url_puts_them() {
        let cases = [
            (
                "postgres://pal:s3cret@db:5432/nhs",
                "postgres://pal:***@db:5432/nhs",
            ),
            (
                "postgresql://pal:p@ss@db/nhs",
                "postgresql://pal:***@db/nhs",
            ),
            ("postgres://pal@db/nhs", "postgres://pal@db/nhs"),
            (
                "postgres://db/nhs?password=s3cret&sslmode=disable",
                "postgres://db/nhs?password=***&sslmode=disable",
            ),
            (
                "host=db user=pal password=s3cret dbname=nhs",
                "host=db user=pal password=*** dbname=nhs",
            ),
            (
                "host=db password='s3 cret' dbname=nhs",
                "host=db password=*** dbname=nhs",
            ),
            ("postgres://db/nhs?user=pal", "postgres://db/nhs?user=pal"),
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want, "{url}");
            assert!(!redact_url(url).contains("s3cret") && !redact_url(url).contains("p@ss"));
            assert_eq!(url_has_password(url), url != want);
        }
    }

    #[test]
    fn the_environment_fills_what_the_url_leaves_out_and_the_password_is_never_shown() {
        let env = |k: &str| match k {
            "PGHOST" => Some("127.0.0.1".to_string()),
            "PGPORT" => Some("6543".to_string()),
            "PGUSER" => Some("analyst".to_string()),
            "PGDATABASE" => Some("warehouse".to_string()),
            "PGPASSWORD" => Some("hunter2".to_string()),
            _ => None,
        };
        let c = PgConnection::new(None, env).expect("from the environment");
        assert_eq!(c.shown(), "postgres://analyst@127.0.0.1:6543/warehouse");
        assert_eq!(c.config.get_password(), Some(&b"hunter2"[..]));
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.scrub(&"auth failed for hunter2"), "auth failed for ***");
        let c = PgConnection::new(Some("postgres://pal@db:5432/nhs"), env).expect("a URL");
        assert_eq!(c.shown(), "postgres://pal@db:5432/nhs");
        let e = PgConnection::new(Some("postgres://pal:pw@db:notaport/nhs"), env)
            .expect_err("a bad port");
        assert!(!e.contains(":pw@"), "{e}");
        assert!(PgConnection::new(None, |k| (k == "PGPORT").then(|| "x".into())).is_err());
    }

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        let dir = std::env::temp_dir().join(format!("pal-pgpass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:*:*:*:nope\n127.0.0.1:*:nhs:pal:a\\:b\\\\c\n",
        )
        .expect("write");
        let f = file.display().to_string();
        let env = |k: &str| match k {
            "PGPASSFILE" => Some(f.clone()),
            _ => None,
        };
        let c = PgConnection::new(Some("postgres://pal@127.0.0.1/nhs"), env).expect("url");
        assert_eq!(c.config.get_password(), Some(&b"a:b\\c"[..]));
        let c = PgConnection::new(Some("postgres://pal@127.0.0.1/other"), env).expect("url");
        assert_eq!(c.config.get_password(), None);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn table_names_are_quoted() {
        assert_eq!(quote_table("ptl").as_deref(), Ok("\"ptl\""));
        assert_eq!(quote_table("rtt.ptl").as_deref(), Ok("\"rtt\".\"ptl\""));
        assert_eq!(quote_table("a\"b").as_deref(), Ok("\"a\"\"b\""));
        assert!(quote_table("a.b.c").is_err());
        assert!(quote_table("").is_err());
    }
}
