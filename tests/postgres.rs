//! PostgreSQL as a source and a sink, against a real server: a throwaway cluster (initdb into a
//! temporary folder, `pg_ctl start` on a free local port, its socket in that folder, trust
//! authentication for the user `pal`), stopped and removed when the test ends. The server's
//! binaries come from Debian's `postgresql` (scripts/components/postgresql.sh, run by
//! scripts/test.sh); without them these tests fail, they never skip. As root (CI), initdb
//! refuses to run, so the cluster is made and run as the `postgres` OS user (runuser).

#[path = "support/parquet_cells.rs"]
mod parquet_cells;
use parquet_cells::parquet_cells;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// A running throwaway cluster.
struct Server {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

fn server_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").is_file())
        .collect();
    found.sort();
    if let Some(b) = found.pop() {
        return b;
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file());
    on_path.unwrap_or_else(|| {
        panic!("PostgreSQL's initdb and pg_ctl were not found (PATH, /usr/lib/postgresql/*/bin): run scripts/test.sh, whose scripts/components/postgresql.sh installs them")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Server {
    fn start() -> Server {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let bin = server_bin();
        let dir = std::env::temp_dir().join(format!(
            "pal-pg-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let as_postgres = is_root();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "cannot hand {} to the postgres user", dir.display());
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let server = Server {
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = server.dir.join("data");
        let out = server.tool(
            "initdb",
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                "pal",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
            server.port,
            server.dir.display()
        );
        let out = server.tool(
            "pg_ctl",
            &[
                "-D",
                &data.display().to_string(),
                "-o",
                &opts,
                "-l",
                &server.dir.join("log").display().to_string(),
                "-w",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(server.dir.join("log")).unwrap_or_default()
        );
        server
    }

    fn tool(&self, name: &str, args: &[&str]) -> Output {
        let exe = self.bin.join(name);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {name}: {e}"))
    }

    fn url(&self) -> String {
        format!("postgres://pal@127.0.0.1:{}/postgres", self.port)
    }

    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&format!("{}?sslmode=disable", self.url()), postgres::NoTls)
            .expect("connect to the test server")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let _ = self.tool("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn pal(args: &[&str], env: &[(&str, &str)]) -> Output {
    pal_in(None, args, env)
}

/// Runs `pal` (in `dir`, if given) with the `PG*` variables of this process removed and `env`
/// set, so that only what a test gives names the server.
fn pal_in(dir: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pal"));
    if let Some(d) = dir {
        c.current_dir(d);
    }
    c.args(args);
    for k in [
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGPASSWORD",
        "PGPASSFILE",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run pal")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Loads `examples/events.csv` into the table `events`, every column text, rows in file order
/// (`ord` gives that order back to a sorted query).
fn load_events(client: &mut postgres::Client) {
    let csv = std::fs::read(root().join("examples/events.csv")).expect("examples/events.csv");
    let header_end = csv.iter().position(|b| *b == b'\n').expect("a header");
    let header = String::from_utf8_lossy(&csv[..header_end])
        .trim()
        .to_string();
    let columns: Vec<&str> = header.split(',').collect();
    let ddl = format!(
        "CREATE TABLE events ({}, ord bigserial)",
        columns
            .iter()
            .map(|c| format!("\"{c}\" text"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    client.batch_execute(&ddl).expect("create events");
    let copy = format!(
        "COPY events ({}) FROM STDIN WITH (FORMAT csv, HEADER true)",
        columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut w = client.copy_in(&copy).expect("copy in");
    std::io::Write::write_all(&mut w, &csv).expect("write rows");
    w.finish().expect("finish copy");
}

const AS_AT: &str = "2024-06-01";

fn csv_run(extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "policies/rde.pal",
        "--events",
        "examples/events.csv",
        "--as-at",
        AS_AT,
        "--format",
        "csv",
    ];
    args.extend_from_slice(extra);
    let mut c = Command::new(env!("CARGO_BIN_EXE_pal"));
    c.current_dir(root()).args(&args).output().expect("run pal")
}

fn in_root(args: &[&str], env: &[(&str, &str)]) -> Output {
    pal_in(Some(root()), args, env)
}

#[test]
fn a_table_of_events_gives_the_results_of_the_csv_file_and_names_rejected_rows_by_key() {
    let server = Server::start();
    let mut client = server.client();
    load_events(&mut client);
    let from_csv = csv_run(&[]);
    assert!(from_csv.status.success());
    let url = server.url();
    let query = "SELECT pathway_id, date, event, source, channel, priority, cancer_route, birth_date, vulnerable, tumour_group, specialty, reason, appointment, appointment_date, communicated, offered_date, available_from, on_the_day, admitted, subsequent, definitive, list, initiated_by, expected_until, until, cancer, ecad, original_start, code FROM events ORDER BY ord";
    let from_pg = in_root(
        &[
            "run",
            "policies/rde.pal",
            "--events",
            &url,
            "--query",
            query,
            "--as-at",
            AS_AT,
            "--format",
            "csv",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&from_pg.stderr);
    assert!(from_pg.status.success(), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&from_pg.stdout),
        String::from_utf8_lossy(&from_csv.stdout),
        "a query gives the CSV file's results byte for byte"
    );
    // The same row account, and rejected rows named by their key columns, not a line.
    let account = |o: &Output| {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .find(|l| l.starts_with("as at"))
            .map(str::to_string)
    };
    assert_eq!(account(&from_pg), account(&from_csv));
    assert!(
        err.contains("(query): row where pathway_id=")
            && err
                .contains("event=dnaa: rejected: unknown event type `dnaa` (did you mean `dna`?)"),
        "{err}"
    );
    // Configured key columns, and a misspelt one.
    let keyed = in_root(
        &[
            "run",
            "policies/rde.pal",
            "--pg-url",
            &url,
            "--query",
            query,
            "--as-at",
            AS_AT,
            "--key-columns",
            "pathway_id,event",
            "-o",
            "/dev/null",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&keyed.stderr);
    assert!(
        err.contains("row where pathway_id=") && !err.contains(", date="),
        "{err}"
    );
    let misspelt = in_root(
        &[
            "run",
            "policies/rde.pal",
            "--pg-url",
            &url,
            "--table",
            "events",
            "--as-at",
            AS_AT,
            "--key-columns",
            "pathway",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&misspelt.stderr);
    assert_eq!(misspelt.status.code(), Some(3), "{err}");
    assert!(
        err.contains("key column `pathway` is not a column")
            && err.contains("did you mean `pathway_id`"),
        "{err}"
    );
    // A sorted query streams, pathway by pathway: the same results, in id order.
    let sorted = format!(
        "{} ",
        query.replace("ORDER BY ord", "ORDER BY pathway_id, ord")
    );
    let streamed = in_root(
        &[
            "run",
            "policies/rde.pal",
            "--pg-url",
            &url,
            "--query",
            &sorted,
            "--as-at",
            AS_AT,
            "--format",
            "csv",
            "--streaming",
        ],
        &[("PGUSER", "nobody")],
    );
    assert!(
        streamed.status.success(),
        "{}",
        String::from_utf8_lossy(&streamed.stderr)
    );
    let lines = |o: &Output| {
        let mut l: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        l.sort();
        l
    };
    assert_eq!(lines(&streamed), lines(&from_csv));
    assert_eq!(account(&streamed), account(&from_csv));
    // The environment alone names the server: PGHOST, PGPORT, PGUSER, PGDATABASE.
    let port = server.port.to_string();
    let by_env = in_root(
        &[
            "run",
            "policies/rde.pal",
            "--query",
            query,
            "--as-at",
            AS_AT,
            "--format",
            "csv",
        ],
        &[
            ("PGHOST", "127.0.0.1"),
            ("PGPORT", &port),
            ("PGUSER", "pal"),
            ("PGDATABASE", "postgres"),
        ],
    );
    assert!(
        by_env.status.success(),
        "{}",
        String::from_utf8_lossy(&by_env.stderr)
    );
    assert_eq!(by_env.stdout, from_csv.stdout);
    // A query the server abandons partway through the stream (division by zero at the last
    // row loaded, after the others were sent: no ORDER BY, so nothing waits for a sort) fails with the server's own message, exit 3.
    let failing = query.replace(
        "FROM events ORDER BY ord",
        "FROM events WHERE 1 / (CASE WHEN ord = (SELECT max(ord) FROM events) THEN 0 ELSE 1 END) = 1",
    );
    let broken = in_root(
        &[
            "run",
            "policies/rde.pal",
            "--events",
            &url,
            "--query",
            &failing,
            "--as-at",
            AS_AT,
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&broken.stderr);
    assert_eq!(broken.status.code(), Some(3), "{err}");
    assert!(
        err.contains("division by zero") && !err.contains("db error"),
        "{err}"
    );
}

#[test]
fn typed_columns_read_like_their_text() {
    let server = Server::start();
    let mut client = server.client();
    client
        .batch_execute(
            "CREATE TABLE ev (pathway_id text, date timestamp, event text, priority text, vulnerable boolean, birth_date date);
             INSERT INTO ev VALUES
               ('P1', '2024-01-02 09:30', 'referral_received', 'routine', true, '1950-03-04'),
               ('P1', '2024-02-03 00:00', 'attended', NULL, NULL, NULL);",
        )
        .expect("typed table");
    let text = "pathway_id,date,event,priority,vulnerable,birth_date\nP1,2024-01-02,referral_received,routine,true,1950-03-04\nP1,2024-02-03,attended,,,\n";
    let dir = std::env::temp_dir().join(format!("pal-pg-typed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("ev.csv");
    std::fs::write(&file, text).expect("write");
    let from_csv = in_root(
        &[
            "run",
            "policies/rde.pal",
            "--events",
            &file.display().to_string(),
            "--as-at",
            AS_AT,
        ],
        &[],
    );
    let from_pg = in_root(
        &[
            "run",
            "policies/rde.pal",
            "--pg-url",
            &server.url(),
            "--table",
            "ev",
            "--as-at",
            AS_AT,
        ],
        &[],
    );
    assert!(
        from_pg.status.success(),
        "{}",
        String::from_utf8_lossy(&from_pg.stderr)
    );
    assert_eq!(from_pg.stdout, from_csv.stdout);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_ptl_table_is_replaced_in_one_transaction_or_left_as_it_was() {
    let server = Server::start();
    let mut client = server.client();
    client.batch_execute("CREATE SCHEMA rtt").expect("schema");
    let url = server.url();
    let dir = std::env::temp_dir().join(format!("pal-pg-ptl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let ptl_csv = dir.join("ptl.csv");
    let run = in_root(
        &[
            "run",
            "policies/rde.pal",
            "--events",
            "examples/events.csv",
            "--as-at",
            AS_AT,
            "-o",
            "/dev/null",
            "--ptl",
            &ptl_csv.display().to_string(),
            "--pg-url",
            &url,
            "--ptl-table",
            "rtt.ptl",
        ],
        &[],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The table holds the PTL file's rows, typed.
    let file = std::fs::read(&ptl_csv).expect("the PTL file");
    let (header, file_rows) = csv_rows(&file);
    assert!(file_rows.len() > 10);
    let table_text = |client: &mut postgres::Client| -> Vec<Vec<String>> {
        table_rows(client, "rtt.ptl", &header)
    };
    assert_eq!(table_text(&mut client), file_rows);
    let types: Vec<(String, String)> = client
        .query("SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = 'rtt' AND table_name = 'ptl' ORDER BY ordinal_position", &[])
        .expect("columns")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(
        types.contains(&("clock_start".into(), "date".into())),
        "{types:?}"
    );
    assert!(
        types.contains(&("days_waited".into(), "bigint".into())),
        "{types:?}"
    );
    assert!(
        types.contains(&("breached".into(), "boolean".into())),
        "{types:?}"
    );
    let before = table_text(&mut client);
    // A run that fails (a rejected row under --strict) leaves the table exactly as it was.
    let strict = in_root(
        &[
            "run",
            "policies/rde.pal",
            "--events",
            "examples/events.csv",
            "--as-at",
            AS_AT,
            "-o",
            "/dev/null",
            "--strict",
            "--pg-url",
            &url,
            "--ptl-table",
            "rtt.ptl",
        ],
        &[],
    );
    assert_eq!(strict.status.code(), Some(1));
    assert_eq!(table_text(&mut client), before);
    // A failure inside the write (a column the rows cannot fill) is rolled back: no rows lost,
    // none half-written; a later as-at date would have changed every row.
    client
        .batch_execute("ALTER TABLE rtt.ptl ADD COLUMN reviewed_by text NOT NULL DEFAULT 'x'; ALTER TABLE rtt.ptl ALTER COLUMN reviewed_by DROP DEFAULT")
        .expect("alter");
    let failed = in_root(
        &[
            "run",
            "policies/rde.pal",
            "--events",
            "examples/events.csv",
            "--as-at",
            "2024-09-01",
            "-o",
            "/dev/null",
            "--pg-url",
            &url,
            "--ptl-table",
            "rtt.ptl",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(3), "{err}");
    assert!(
        err.contains("cannot write `rtt.ptl`") && err.contains("reviewed_by"),
        "{err}"
    );
    assert_eq!(table_text(&mut client), before);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_password_never_appears_in_output() {
    let server = Server::start();
    let secret = "Sup3rS3cret";
    // On the command line: refused, the URL shown without it.
    let url = format!("postgres://pal:{secret}@127.0.0.1:{}/postgres", server.port);
    let out = pal(
        &[
            "run",
            "policies/rde.pal",
            "--events",
            &url,
            "--table",
            "events",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("pal:***@127.0.0.1") && err.contains("PGPASSWORD"),
        "{err}"
    );
    assert!(!err.contains(secret) && !String::from_utf8_lossy(&out.stdout).contains(secret));
    let out = pal(
        &[
            "run",
            "policies/rde.pal",
            "--pg-url",
            &format!("host=127.0.0.1 password={secret}"),
            "--table",
            "events",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(secret));
    // From the environment: used, never shown, whatever goes wrong (no such table, no server).
    let port = server.port.to_string();
    for (p, what) in [(port.as_str(), "does not exist"), ("1", "cannot connect")] {
        let out = in_root(
            &[
                "run",
                "policies/rde.pal",
                "--table",
                "no_such_table",
                "--as-at",
                AS_AT,
            ],
            &[
                ("PGHOST", "127.0.0.1"),
                ("PGPORT", p),
                ("PGUSER", "pal"),
                ("PGDATABASE", "postgres"),
                ("PGPASSWORD", secret),
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains(what) && err.contains("postgres://pal@127.0.0.1"),
            "{err}"
        );
        assert!(!err.contains(secret), "{err}");
    }
}

/// The rows of `table` as text (`coalesce(column::text, '')` under `header`), sorted.
fn table_rows(client: &mut postgres::Client, table: &str, header: &[String]) -> Vec<Vec<String>> {
    let cols = header
        .iter()
        .map(|c| format!("coalesce(\"{c}\"::text, '')"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut rows: Vec<Vec<String>> = client
        .query(&format!("SELECT {cols} FROM {table}"), &[])
        .expect("read the table")
        .iter()
        .map(|row| (0..header.len()).map(|i| row.get::<_, String>(i)).collect())
        .collect();
    rows.sort();
    rows
}

/// A CSV text's header and its rows, sorted.
fn csv_rows(text: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text);
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect();
    rows.sort();
    (header, rows)
}

#[test]
fn results_go_to_a_table_in_one_transaction_or_the_table_is_left_as_it_was() {
    let server = Server::start();
    let mut client = server.client();
    client.batch_execute("CREATE SCHEMA rtt").expect("schema");
    let url = server.url();
    let to_table = |events: &str, as_at: &str, extra: &[&str]| {
        let mut args = vec![
            "run",
            "policies/rde.pal",
            "--events",
            events,
            "--as-at",
            as_at,
            "--pg-url",
            &url,
            "--results-table",
            "rtt.results",
        ];
        args.extend_from_slice(extra);
        in_root(&args, &[])
    };
    let run = to_table("examples/events.csv", AS_AT, &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.stdout.is_empty(), "results go to the table, not stdout");
    // The table holds the CSV results, row for row, typed.
    let (header, csv) = csv_rows(&csv_run(&[]).stdout);
    assert!(csv.len() > 10);
    let before = table_rows(&mut client, "rtt.results", &header);
    assert_eq!(before, csv);
    let types: Vec<(String, String)> = client
        .query("SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = 'rtt' AND table_name = 'results' ORDER BY ordinal_position", &[])
        .expect("columns")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let names: Vec<&str> = types.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, header, "the CSV columns, in order");
    for (column, sql) in [
        ("as_at", "date"),
        ("start", "date"),
        ("days_waited", "bigint"),
        ("breached", "boolean"),
        ("reason", "text"),
    ] {
        assert!(
            types.contains(&(column.into(), sql.into())),
            "{column}: {types:?}"
        );
    }
    // The Parquet results, the same description of the columns, hold the same rows.
    let dir = std::env::temp_dir().join(format!("pal-pg-results-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let parquet = dir.join("results.parquet");
    let to_parquet = csv_run(&["-o", &parquet.display().to_string()]);
    assert!(to_parquet.status.success());
    let (pq_header, mut pq_rows) = parquet_cells(&parquet);
    pq_rows.sort();
    assert_eq!(pq_header, header);
    assert_eq!(pq_rows, before);

    // A run that fails before any result is written (a rejected row under --strict), and one
    // that fails in the middle of the results (streaming, a bad row after some thousand
    // pathways whose results have gone to the server): the table is exactly as it was.
    let strict = to_table("examples/events.csv", AS_AT, &["--strict"]);
    assert_eq!(strict.status.code(), Some(1));
    assert_eq!(table_rows(&mut client, "rtt.results", &header), before);
    let big = dir.join("big.csv");
    let synth = in_root(
        &[
            "synth",
            "--pathways",
            "5000",
            "--out",
            &big.display().to_string(),
        ],
        &[],
    );
    assert!(synth.status.success());
    let mut text = std::fs::read_to_string(&big).expect("synthetic extract");
    let columns = text.lines().next().unwrap_or_default().split(',').count();
    text.push_str(&format!(
        "ZZZ-LAST,2024-01-02,no_such_event{}\n",
        ",".repeat(columns - 3)
    ));
    std::fs::write(&big, text).expect("write");
    // Rows inserted into the table, committed or not (the statistics count both).
    let inserted = |client: &mut postgres::Client| -> i64 {
        client
            .batch_execute("SELECT pg_stat_clear_snapshot()")
            .expect("clear");
        client
            .query_one(
                "SELECT n_tup_ins FROM pg_stat_user_tables WHERE schemaname = 'rtt' AND relname = 'results'",
                &[],
            )
            .expect("statistics")
            .get(0)
    };
    let inserted_before = inserted(&mut client);
    let midway = to_table(
        &big.display().to_string(),
        "2025-03-01",
        &["--streaming", "--strict"],
    );
    let err = String::from_utf8_lossy(&midway.stderr);
    assert_eq!(midway.status.code(), Some(1), "{err}");
    assert!(err.contains("no_such_event"), "{err}");
    assert_eq!(table_rows(&mut client, "rtt.results", &header), before);
    // Rows had reached the server before the failure (the statistics arrive within a second
    // or so of the run's end): they were rolled back, not held back.
    let mut sent = 0;
    for _ in 0..50 {
        sent = inserted(&mut client) - inserted_before;
        if sent > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(sent > 0, "no row reached the server before the failure");
    // Without --strict the bad row is only rejected, and the table is replaced.
    let ok = to_table(&big.display().to_string(), "2025-03-01", &["--streaming"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let count: i64 = client
        .query_one("SELECT count(DISTINCT pathway_id) FROM rtt.results", &[])
        .expect("count")
        .get(0);
    assert_eq!(count, 5000);
    // A failure inside the write (a column the rows cannot fill) is rolled back too.
    client
        .batch_execute("DELETE FROM rtt.results; INSERT INTO rtt.results (pathway_id) VALUES ('kept'); ALTER TABLE rtt.results ADD COLUMN reviewed_by text NOT NULL DEFAULT 'x'; ALTER TABLE rtt.results ALTER COLUMN reviewed_by DROP DEFAULT")
        .expect("alter");
    let failed = to_table("examples/events.csv", AS_AT, &[]);
    let err = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(3), "{err}");
    assert!(
        err.contains("cannot write `rtt.results`") && err.contains("reviewed_by"),
        "{err}"
    );
    let kept = |client: &mut postgres::Client| -> Vec<String> {
        client
            .query("SELECT pathway_id FROM rtt.results", &[])
            .expect("read")
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(kept(&mut client), ["kept"]);
    // The same refusal in the middle of a long streaming write: the server's words, the
    // table as it was.
    let failed = to_table(&big.display().to_string(), "2025-03-01", &["--streaming"]);
    let err = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(3), "{err}");
    assert!(
        err.contains("cannot write `rtt.results`") && err.contains("reviewed_by"),
        "{err}"
    );
    assert_eq!(kept(&mut client), ["kept"]);
    let _ = std::fs::remove_dir_all(dir);
}

/// Loads the CSV file `path` into a new table `table`, every column text. `interleaved`: the
/// rows of different pathways interleaved (the first row of every pathway, then the second
/// of every pathway, …), each pathway's own rows still in file order; else in file order.
fn load_csv(client: &mut postgres::Client, table: &str, path: &str, interleaved: bool) {
    let text = std::fs::read(root().join(path)).expect("the CSV file");
    let mut reader = csv::Reader::from_reader(&text[..]);
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let order: Vec<usize> = if interleaved {
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        let mut keyed: Vec<(usize, usize)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let n = seen.entry(r[0].to_string()).or_default();
                *n += 1;
                (*n, i)
            })
            .collect();
        keyed.sort();
        keyed.into_iter().map(|(_, i)| i).collect()
    } else {
        (0..rows.len()).collect()
    };
    let quoted: Vec<String> = header.iter().map(|c| format!("\"{c}\"")).collect();
    client
        .batch_execute(&format!(
            "CREATE TABLE {table} ({})",
            quoted
                .iter()
                .map(|c| format!("{c} text"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .expect("create the table");
    let mut body = csv::Writer::from_writer(Vec::new());
    body.write_record(&header).expect("header");
    for i in order {
        body.write_record(&rows[i]).expect("row");
    }
    let body = body.into_inner().expect("csv");
    let mut w = client
        .copy_in(&format!(
            "COPY {table} ({}) FROM STDIN WITH (FORMAT csv, HEADER true)",
            quoted.join(", ")
        ))
        .expect("copy in");
    std::io::Write::write_all(&mut w, &body).expect("write rows");
    w.finish().expect("finish copy");
}

#[test]
fn a_trust_extract_in_a_table_read_through_a_mapping_gives_the_results_of_pals_own_csv() {
    let server = Server::start();
    let mut client = server.client();
    load_csv(&mut client, "wlmds", "examples/wlmds-extract.csv", false);
    let url = server.url();
    for format in ["csv", "jsonl"] {
        let run = |input: &[&str], extra: &[&str]| {
            let mut args = vec![
                "run",
                "policies/rde.pal",
                "--as-at",
                "2025-03-31",
                "--format",
                format,
            ];
            args.extend_from_slice(input);
            args.extend_from_slice(extra);
            in_root(&args, &[])
        };
        let own = run(&["--events", "tests/mapping/wlmds-own.csv"], &[]);
        assert!(own.status.success());
        for extra in [&[][..], &["--streaming"]] {
            let mapped = run(
                &[
                    "--map",
                    "examples/mappings/wlmds.pal",
                    "--events",
                    &url,
                    "--table",
                    "wlmds",
                ],
                extra,
            );
            let err = String::from_utf8_lossy(&mapped.stderr);
            assert!(mapped.status.success(), "{err}");
            assert!(!mapped.stdout.is_empty());
            assert_eq!(
                String::from_utf8_lossy(&mapped.stdout),
                String::from_utf8_lossy(&own.stdout),
                "{format} {extra:?}: byte for byte"
            );
            // The same row account: nothing rejected, nothing lost.
            assert_eq!(
                err.lines().find(|l| l.starts_with("as at")),
                String::from_utf8_lossy(&own.stderr)
                    .lines()
                    .find(|l| l.starts_with("as at")),
            );
        }
    }
}

#[test]
fn a_table_in_no_order_is_read_in_pathway_order_and_streams() {
    let server = Server::start();
    let mut client = server.client();
    load_csv(&mut client, "shuffled", "examples/events.csv", true);
    let url = server.url();
    let from_csv = csv_run(&[]);
    assert!(from_csv.status.success());
    let read = |what: &[&str]| {
        let mut args = vec![
            "run",
            "policies/rde.pal",
            "--pg-url",
            &url,
            "--as-at",
            AS_AT,
            "--format",
            "csv",
            "--streaming",
        ];
        args.extend_from_slice(what);
        in_root(&args, &[])
    };
    let sorted_lines = |o: &Output| {
        let mut l: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        l.sort();
        l
    };
    let account = |o: &Output| {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .find(|l| l.starts_with("as at"))
            .map(str::to_string)
    };
    // The table really is out of order: a query without ORDER BY splits its pathways.
    let unsorted = read(&["--query", "SELECT * FROM shuffled"]);
    assert!(
        String::from_utf8_lossy(&unsorted.stderr).contains("not adjacent"),
        "{}",
        String::from_utf8_lossy(&unsorted.stderr)
    );
    // `--table` reads it by pathway id, each pathway's rows in load order: nothing rejected
    // that the CSV file does not reject, the same results.
    let table = read(&["--table", "shuffled"]);
    let err = String::from_utf8_lossy(&table.stderr);
    assert!(table.status.success(), "{err}");
    assert!(!err.contains("not adjacent"), "{err}");
    assert_eq!(account(&table), account(&from_csv));
    assert_eq!(sorted_lines(&table), sorted_lines(&from_csv));
    // A view has no physical order, but is still read by pathway id.
    client
        .batch_execute("CREATE VIEW shuffled_view AS SELECT * FROM shuffled")
        .expect("view");
    let view = read(&["--table", "shuffled_view"]);
    let err = String::from_utf8_lossy(&view.stderr);
    assert!(view.status.success(), "{err}");
    assert!(!err.contains("not adjacent"), "{err}");
}
