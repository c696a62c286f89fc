//! JSURL vectors from boomerang's `tests/unit/13-compression.js` (adapted
//! there from Sage/jsurl), error lists shaped like `compressErrors` output,
//! and real beacons from ../shared/field-data with an `err` added.

use super::{BOOMERANG_ERR, BOOMERANG_ERR_UNDECODED, count, jsurl};
use crate::baseline::options::{Format, ImportOptions};
use crate::baseline::{Baseline, Importer, SegmentKey};
use crate::metric::Metric;
use serde_json::{Value, json};

#[test]
fn jsurl_decodes_boomerangs_test_vectors() {
    let cases: [(&str, Value); 9] = [
        ("~null", Value::Null),
        ("~false", json!(false)),
        ("~-1.5", json!(-1.5)),
        ("~'hello*20world**203c", json!("hello world\u{203c}")),
        ("~(~)", json!([])),
        ("~()", json!({})),
        (
            "~(~null~null~false~0~'hello*20world**203c)",
            json!([null, null, false, 0.0, "hello world\u{203c}"]),
        ),
        (
            "~(c~null~d~false~e~0~f~'hello*20world**203c)",
            json!({"c": null, "d": false, "e": 0.0, "f": "hello world\u{203c}"}),
        ),
        (
            "~(a~(~(~1~2)~(~)~())~b~(~)~c~(d~'hello~e~()~f~(~)))",
            json!({"a": [[1.0, 2.0], [], {}], "b": [], "c": {"d": "hello", "e": {}, "f": []}}),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(jsurl(text), Some(want), "{text}");
    }
    let escaped = "~'*20*21*22*23!*25*26*27*28*29*2a*2b*2c-.*2f09*3a*3b*3c*3d*3e*3f*40AZ*5b*5c*5d*5e_*60az*7b*7c*7d*7e";
    assert_eq!(
        jsurl(escaped),
        Some(json!(" !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~"))
    );
    for bad in [
        "~", "~(", "~(~1", "~'a)", "~nope", "~(a~1~)", "x", "~1~2", "~'*zz",
    ] {
        assert_eq!(jsurl(bad), None, "{bad}");
    }
}

/// Two distinct errors as `compressErrors` writes them: the first seen 3
/// times (`n`), with a frame (`f`: `l`ine, `c`olumn, `wo` file without the
/// origin, `f`unction) and a base-36 timestamp (`d`); the second once,
/// from the global handler (`v` 2). 3 + 1 errors.
const TWO_ERRORS: &str = "~(~(m~'Cannot*20read*20properties*20of*20undefined*20*28reading*20*27price*27*29~f~(~(l~12~c~5~wo~'*2fstatic*2fapp.js~f~'renderPrice))~n~3~d~'lrk3x2p4)~(m~'Script*20error.~v~2))";

#[test]
fn err_counts_every_occurrence() {
    assert_eq!(count(TWO_ERRORS), Some((4.0, BOOMERANG_ERR)));
    // serializeForUrl falls back to JSON without the Compression utility.
    assert_eq!(
        count(r#"[{"m":"boom","n":2},{"m":"x"},{"m":"y","n":"5"}]"#),
        Some((8.0, BOOMERANG_ERR))
    );
    // A URL-encoded quote, as some collectors store it.
    assert_eq!(count("~(~(m~%27boom))"), Some((1.0, BOOMERANG_ERR)));
    assert_eq!(count("~(~)"), Some((0.0, BOOMERANG_ERR)));
    // `n` of 0 or garbage counts once, as decompressErrors reads it.
    assert_eq!(count("~(~(n~0)~(n~'x))"), Some((2.0, BOOMERANG_ERR)));
    assert_eq!(count(""), None);
    for undecodable in [
        "oops",
        "~(~(m~'truncat",
        "{\"m\":1}",
        "~(m~'not*20a*20list)",
    ] {
        assert_eq!(
            count(undecodable),
            Some((1.0, BOOMERANG_ERR_UNDECODED)),
            "{undecodable}"
        );
    }
    let deep = "~(".repeat(10_000);
    assert_eq!(
        count(&deep),
        Some((1.0, BOOMERANG_ERR_UNDECODED)),
        "no stack overflow"
    );
}

fn import(text: &str) -> Baseline {
    let mut o = ImportOptions::new(Format::Boomerang);
    o.min_segment = 1;
    let mut imp = Importer::new(o);
    imp.read("beacons.txt", text.as_bytes()).unwrap();
    imp.finish().unwrap()
}

fn shared(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/field-data/beacons")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn real_beacons_with_err_report_js_errors() {
    // The real boomerang 1.737.60 form beacon (SOURCES.md), with an `err`.
    let form = shared("boomerang-beacon_basicrum.com_2024-02_clickhouse-02984_form_format.txt");
    let form = form.trim_end();
    // The first real basicRUM JSON beacon (page-load, u=https://friend.com/).
    let lines =
        shared("boomerang-beacons_11-lines_basicrum-front_basicrum_go_it-data-ab.json.lines");
    let mut first: serde_json::Map<String, Value> =
        serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    first.insert("err".into(), r#"[{"m":"boom","n":2}]"#.into());
    let error_beacon = "u=https%3A%2F%2Fwww.basicrum.com%2Fpublications%2F&http.initiator=error&rt.start=manual&err=~(~(m~'late))";
    let text = format!(
        "{form}&err={TWO_ERRORS}\n{}\n{error_beacon}\n{form}\n",
        Value::Object(first)
    );
    let b = import(&text);
    let src = &b.provenance.sources[0];
    assert_eq!(src.rejected["error-beacon"].first_lines, vec![3]);
    assert_eq!((src.rows_read, src.rows_accepted), (4, 3));

    let pubs = b
        .segments
        .iter()
        .find(|s| s.page == "/publications" && s.segment == SegmentKey::default())
        .unwrap();
    assert_eq!(
        pubs.context.page_views, 2,
        "the error beacon is no page view"
    );
    let js = &pubs.metrics[&Metric::JsErrors];
    assert_eq!(js.n, 1, "only the beacon with err reports js_errors");
    assert_eq!(js.definition, BOOMERANG_ERR);
    let p50 = js.p50.unwrap();
    assert!((p50 - 4.0).abs() <= 0.04, "3 + 1 errors, got {p50}");
    assert_eq!(pubs.context.js_reported_views, Some(1));

    let home = b
        .segments
        .iter()
        .find(|s| s.page == "/" && s.segment == SegmentKey::default())
        .unwrap();
    let p50 = home.metrics[&Metric::JsErrors].p50.unwrap();
    assert!((p50 - 2.0).abs() <= 0.02, "n = 2, got {p50}");
}
