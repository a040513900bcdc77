//! `pal report html` in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `scripts/components/chromium.sh`, which `scripts/test.sh` runs) renders the report of a small
//! extract to a screenshot kept in `target/artifacts/html-report.png` (CI keeps that folder as
//! an artifact), and dumps the DOM it built, which is checked for what a reader must see: the
//! headline figures worked out by hand below, the bars of the histogram, the PTL's rows and
//! the timelines they link to, and a hostile pathway id shown as text, never run. The file is
//! checked to name nothing on the network.
//!
//! `pal diff --format html` likewise: the impact page of `policies/variants/strict_trust.pal`
//! over `examples/events.csv` (the case of `tests/diff.rs`) with one example pathway renamed to
//! markup, screenshot in `target/artifacts/diff-report.png`, its DOM checked for the sections
//! a board paper needs and the hostile id shown as text.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("pal-html-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs headless Chromium with a fresh profile, killed after a minute.
fn chromium(args: &[&str]) -> Output {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run scripts/test.sh (its scripts/components/chromium.sh installs Debian's chromium)"
    );
    // A profile of its own per run: two browsers on one profile refuse to start, and the
    // tests run in parallel.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = TempDir::new(&format!("profile-{run}"));
    let profile_arg = format!("--user-data-dir={}", profile.0.display());
    let mut child = match Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            &profile_arg,
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot start {CHROMIUM}: {e}"),
    };
    // Read both pipes while it runs: a DOM larger than a pipe's buffer (64 KiB) would
    // otherwise block the browser on its write until the timeout.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > Duration::from_secs(90) => {
                let _ = child.kill();
                panic!("chromium did not finish within 90 s");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("cannot wait for chromium: {e}"),
        }
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// The RTT extract of `tests/returns/` and one pathway whose id is markup, open 365 days at
/// the census date 31 March 2025.
const HOSTILE: &str = "<script>alert(1)</script>";

fn write_report(dir: &Path) -> (PathBuf, String) {
    let mut extract = match std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/returns/rtt_extract.csv"),
    ) {
        Ok(t) => t,
        Err(e) => panic!("cannot read the extract: {e}"),
    };
    extract.push_str(&format!(
        "{HOSTILE},2024-03-31,referral_received,cardiology,,,,,,,,\n"
    ));
    let events = dir.join("events.csv");
    if let Err(e) = std::fs::write(&events, extract) {
        panic!("cannot write {}: {e}", events.display());
    }
    let page = dir.join("report.html");
    let o = match Command::new(env!("CARGO_BIN_EXE_pal"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["report", "html", "policies/national.pal", "--events"])
        .arg(&events)
        .args([
            "--as-at",
            "2025-03-31",
            "--title",
            "Example & <Trust> waiting list",
            "-o",
        ])
        .arg(&page)
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run pal: {e}"),
    };
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.stdout.is_empty(), "the page went to the file, not stdout");
    let html = match std::fs::read_to_string(&page) {
        Ok(t) => t,
        Err(e) => panic!("no report written: {e}"),
    };
    (page, html)
}

/// The text of the element with `id` (its markup, tags stripped).
fn text_of(dom: &str, id: &str) -> String {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id} in the DOM"));
    let open_end = at + dom[at..].find('>').unwrap_or(0) + 1;
    let close = open_end + dom[open_end..].find("</div></div>").unwrap_or(0);
    let mut out = String::new();
    let mut in_tag = false;
    for c in dom[open_end..close].chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// No script, no stylesheet, image or frame from elsewhere, and every `src` or `href` an
/// anchor on the page.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for banned in ["<script", "<link", "<img", "<iframe", "@import", "url("] {
        assert!(!lower.contains(banned), "the page holds `{banned}`");
    }
    for attr in ["src=", "href="] {
        for (i, _) in lower.match_indices(attr) {
            let value = lower[i + attr.len()..].trim_start_matches(['"', '\'']);
            assert!(
                value.starts_with('#'),
                "{attr} names something outside the page: {}",
                &html[i..(i + 60).min(html.len())]
            );
        }
    }
}

#[test]
fn the_html_report_is_self_contained() {
    let dir = TempDir::new("static");
    let (_, html) = write_report(&dir.0);
    let lower = html.to_ascii_lowercase();
    assert_self_contained(&html);
    assert!(!lower.contains("http://") || lower.matches("http://").count() == 1);
    assert!(
        lower.contains("xmlns=\"http://www.w3.org/2000/svg\""),
        "the only http text is the SVG namespace"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("<title>Example &amp; &lt;Trust&gt; waiting list</title>"));
}

/// Census 31 March 2025; the open RTT periods of the extract (days waited): C3 0, R1 14, F1 21,
/// C7 80, C6 88, C4 126, C5 127, the hostile pathway 365, C2 728, C1 729 — ten.
/// Within 18 weeks (≤ 126 days): six, 60.0% against 92% (not met). Over 52 weeks (> 364 days):
/// 3; over 65 (> 455): 2; over 78 (> 546): 2; over 104 (> 728): 1. Median (nearest rank 5 of
/// 10): 88 days = 12.6 weeks; 92nd percentile (rank 10): 729 days = 104.1 weeks.
#[test]
fn the_html_report_in_a_browser() {
    let dir = TempDir::new("browser");
    let (page, html) = write_report(&dir.0);
    let dom = render_in_browser(&page, "html-report.png");

    // The headline figures, worked out above.
    assert_eq!(
        text_of(&dom, "pct-within"),
        "60.0% within 18 weeks (standard 92%: not met)"
    );
    assert_eq!(text_of(&dom, "total-waiting"), "10 waiting");
    assert_eq!(text_of(&dom, "over-52"), "3 over 52 weeks");
    assert_eq!(text_of(&dom, "over-65"), "2 over 65 weeks");
    assert_eq!(text_of(&dom, "over-78"), "2 over 78 weeks");
    assert_eq!(text_of(&dom, "over-104"), "1 over 104 weeks");
    assert_eq!(text_of(&dom, "median"), "12.6 wk median wait");
    assert_eq!(text_of(&dom, "p92"), "104.1 wk 92nd percentile wait");

    // The histogram: 105 bars, one per band, counts as worked out; the 18-week line.
    let bars: Vec<&str> = dom
        .match_indices("<rect class=\"bar")
        .map(|(i, _)| &dom[i..])
        .collect();
    assert_eq!(bars.len(), 105);
    let count_of = |band: &str| -> String {
        let at = dom
            .find(&format!("data-band=\"{band}\""))
            .unwrap_or_else(|| panic!("no bar for {band}"));
        let rest = &dom[at..];
        let c = rest.find("data-count=\"").map_or(0, |i| i + 12);
        rest[c..].chars().take_while(char::is_ascii_digit).collect()
    };
    for (band, n) in [
        ("&gt;0-1", "1"),
        ("&gt;1-2", "1"),
        ("&gt;2-3", "1"),
        ("&gt;11-12", "1"),
        ("&gt;12-13", "1"),
        ("&gt;17-18", "1"),
        ("&gt;18-19", "1"),
        ("&gt;52-53", "1"),
        ("&gt;103-104", "1"),
        ("&gt;104", "1"),
        ("&gt;50-51", "0"),
    ] {
        assert_eq!(count_of(band), n, "band {band}");
    }
    assert!(dom.contains("id=\"target-line\""));

    // The specialty table names the treatment-function groups.
    assert!(
        dom.contains("<td>Cardiology Service</td><td class=\"n\">2</td>"),
        "R1 and the hostile pathway"
    );

    // The PTL: the longest wait first, the hostile id as text, every link to a timeline there.
    let ptl_at = dom.find("id=\"ptl\"").unwrap_or_else(|| panic!("no PTL"));
    let first_row = &dom[ptl_at..];
    let c1 = first_row.find(">C1<").unwrap_or(usize::MAX);
    let c2 = first_row.find(">C2<").unwrap_or(usize::MAX);
    assert!(c1 < c2, "C1 (729 days) before C2 (728)");
    // Its row: start, wait, band, breach date (start + 127 days), no action due, no DNA.
    assert!(
        dom.contains("<a href=\"#pathway-C1\">C1</a></td><td>2023-04-02</td><td class=\"n\">104 wk 1 d</td><td>&gt;104</td><td>2023-08-07</td><td></td><td></td><td class=\"n\">0 / 0, 0</td>"),
        "the PTL row of C1"
    );
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !dom.to_ascii_lowercase().contains("<script"),
        "the hostile id became markup"
    );
    let links: Vec<String> = dom
        .match_indices("href=\"#")
        .map(|(i, _)| {
            dom[i + 7..]
                .chars()
                .take_while(|c| *c != '"')
                .collect::<String>()
        })
        .filter(|t| t != "ptl")
        .collect();
    assert_eq!(links.len(), 10, "one link per PTL row");
    for target in &links {
        assert!(
            dom.contains(&format!("<section class=\"timeline\" id=\"{target}\">")),
            "the link #{target} has no timeline"
        );
    }
    // A timeline shows the rules that fired with their citations, and the clock periods.
    let c1_at = dom
        .find("id=\"pathway-C1\"")
        .unwrap_or_else(|| panic!("no timeline for C1"));
    let c1 = &dom[c1_at..];
    let c1 = &c1[..c1.find("</section>").unwrap_or(c1.len())];
    assert!(
        c1.contains("<td>rtt_start_referral</td><td>a referral starts the RTT clock on the day it is received</td><td>RTT Rule 1, RTT Rule 2, RTT Rule 3c</td>"),
        "{c1}"
    );
    assert!(
        c1.contains("<td>2023-04-02</td><td>referral_received</td>"),
        "{c1}"
    );
    assert!(c1.contains("<td class=\"n\">729</td>"), "{c1}");
    assert!(html.len() < 200_000);
}

/// The page's headline agrees with `pal run --summary` on the same extract and date: one
/// definition of the figures (nearest-rank percentiles over the exact days waited).
#[test]
fn the_headline_agrees_with_the_summary() {
    let run = |args: &[&str]| -> String {
        let o = match Command::new(env!("CARGO_BIN_EXE_pal"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .output()
        {
            Ok(o) => o,
            Err(e) => panic!("cannot run pal: {e}"),
        };
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let common = [
        "policies/national.pal",
        "--events",
        "tests/returns/rtt_extract.csv",
        "--as-at",
        "2025-03-31",
    ];
    let mut args = vec!["run"];
    args.extend(common);
    args.extend(["--summary", "--summary-format", "json"]);
    let summary: serde_json::Value = match serde_json::from_str(&run(&args)) {
        Ok(v) => v,
        Err(e) => panic!("the summary is not JSON: {e}"),
    };
    let rtt = summary["clocks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["clock"] == "rtt"))
        .unwrap_or_else(|| panic!("no rtt clock in {summary}"))
        .clone();
    let mut args = vec!["report", "html"];
    args.extend(common);
    let page = run(&args);
    let card = |id: &str| text_of(&page, id);
    let pct = rtt["percent_within"].as_f64().unwrap_or(-1.0);
    assert!(card("pct-within").starts_with(&format!("{pct:.1}% within 18 weeks")));
    assert_eq!(card("total-waiting"), format!("{} waiting", rtt["periods"]));
    for pair in rtt["over_weeks"].as_array().into_iter().flatten() {
        assert_eq!(
            card(&format!("over-{}", pair[0])),
            format!("{} over {} weeks", pair[1], pair[0])
        );
    }
    let weeks =
        |days: &serde_json::Value| (days.as_f64().unwrap_or(-1.0) / 7.0 * 10.0).round() / 10.0;
    assert_eq!(
        card("median"),
        format!("{:.1} wk median wait", weeks(&rtt["median_days"]))
    );
    assert_eq!(
        card("p92"),
        format!("{:.1} wk 92nd percentile wait", weeks(&rtt["p92_days"]))
    );
}

/// Renders `page` in headless Chromium: a 1280×2400 screenshot kept as
/// `target/artifacts/{shot_name}` (checked to be a PNG of that size with something drawn), and
/// the DOM the browser built.
fn render_in_browser(page: &Path, shot_name: &str) -> String {
    let url = format!("file://{}", page.display());
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artifacts");
    if let Err(e) = std::fs::create_dir_all(&artifacts) {
        panic!("cannot create {}: {e}", artifacts.display());
    }
    let shot = artifacts.join(shot_name);
    let _ = std::fs::remove_file(&shot);
    let o = chromium(&[
        "--window-size=1280,2400",
        &format!("--screenshot={}", shot.display()),
        &url,
    ]);
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}); chromium said: {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "the screenshot is a PNG");
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let height = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
    assert_eq!((width, height), (1280, 2400));
    assert!(png.len() > 20_000, "a blank page compresses to less");
    let o = chromium(&["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        dom.contains("</html>"),
        "no DOM: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    dom
}

/// The diff page of the example extract under RDE and the strict variant, with pathway P031
/// (one of the examples) renamed to [`HOSTILE`].
fn write_diff_page(dir: &Path) -> (PathBuf, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let extract = match std::fs::read_to_string(root.join("examples/events.csv")) {
        Ok(t) => t,
        Err(e) => panic!("cannot read the extract: {e}"),
    };
    let renamed: String = extract
        .lines()
        .map(|l| match l.strip_prefix("P031,") {
            Some(rest) => format!("{HOSTILE},{rest}\n"),
            None => format!("{l}\n"),
        })
        .collect();
    assert_ne!(renamed, extract, "P031 is in the extract");
    let events = dir.join("events.csv");
    if let Err(e) = std::fs::write(&events, renamed) {
        panic!("cannot write {}: {e}", events.display());
    }
    let page = dir.join("diff.html");
    let o = match Command::new(env!("CARGO_BIN_EXE_pal"))
        .current_dir(root)
        .args([
            "diff",
            "policies/rde.pal",
            "policies/variants/strict_trust.pal",
            "--policy-path",
            "policies",
            "--events",
        ])
        .arg(&events)
        .args(["--as-at", "2025-03-31", "--format", "html", "-o"])
        .arg(&page)
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run pal: {e}"),
    };
    assert_eq!(
        o.status.code(),
        Some(1),
        "differences found: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.stdout.is_empty(), "the page went to the file, not stdout");
    match std::fs::read_to_string(&page) {
        Ok(t) => (page, t),
        Err(e) => panic!("no page written: {e}"),
    }
}

#[test]
fn the_diff_page_is_self_contained_and_escapes_ids() {
    let dir = TempDir::new("diff-static");
    let (_, html) = write_diff_page(&dir.0);
    assert_self_contained(&html);
    assert!(
        !html.to_ascii_lowercase().contains("http"),
        "nothing on the network"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Its anchor is hex-escaped, and the causes link to it.
    let anchor = "pathway-.3cscript.3ealert.281.29.3c.2fscript.3e";
    assert!(html.contains(&format!("<section class=\"timeline\" id=\"{anchor}\">")));
    assert!(html.contains(&format!("<a href=\"#{anchor}\">&lt;script&gt;")));
}

#[test]
fn the_diff_page_in_a_browser() {
    let dir = TempDir::new("diff-browser");
    let (page, _) = write_diff_page(&dir.0);
    let dom = render_in_browser(&page, "diff-report.png");
    // What changes in the policy, with a citation; the position table; the counts.
    for section in [
        "1. What changes in the policy",
        "2. Effect on the position",
        "3. Pathways that change",
        "4. Why: the rules whose firing differs",
        "5. Examples",
    ] {
        assert!(dom.contains(&format!("<h2>{section}</h2>")), "{section}");
    }
    assert!(dom.contains("<table id=\"policy-changes\">"));
    assert!(dom.contains("<th>measure</th><th>old</th><th>new</th><th>change</th>"));
    assert_eq!(
        text_of(&dom, "changed-pathways"),
        "14 of 300 pathways change"
    );
    assert!(
        dom.contains("<td>rule</td><td>follow_up_dna_review</td>"),
        "the first cause"
    );
    assert!(dom.contains("<td>9.13.1; RTT Rule 5f</td><td>"));
    // The hostile id as text, never run; its side-by-side timeline is there.
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !dom.to_ascii_lowercase().contains("<script"),
        "the hostile id became markup"
    );
    assert!(dom.contains("<th>old: rde</th><th>new: strict_trust</th>"));
    assert!(dom.contains("<tr class=\"differs\">"));
}
