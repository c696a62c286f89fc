use super::*;

fn parse(text: &str) -> Result<Profile, String> {
    Profile::from_toml(text).map_err(|e| e.to_string())
}

#[test]
fn preset_profile_fills_network_cpu_device_and_segment() {
    let p = parse("name = \"mobile\"\npreset = \"lighthouse-mobile\"").unwrap();
    let n = p.network.unwrap();
    assert_eq!((n.rtt_ms, n.down_kbps, n.up_kbps), (150.0, 1638.4, 750.0));
    assert_eq!(p.cpu_slowdown, 4.0);
    let d = p.device.clone().unwrap();
    assert_eq!(
        (d.width, d.height, d.dpr, d.mobile, d.touch),
        (412, 823, 1.75, true, true)
    );
    assert_eq!(p.segment.form_factor.as_deref(), Some("phone"));
    assert_eq!(p.segment.connection.as_deref(), Some("4g"));
    assert_eq!(p.engine, Engine::Proxy);
    assert!(p.needs_proxy());
}

#[test]
fn explicit_fields_override_the_preset() {
    let p = parse(
        "name = \"m\"\npreset = \"lighthouse-mobile\"\nnetwork = \"lte\"\ncpu_slowdown = 2\n\
         segment = { form_factor = \"Tablet\" }",
    )
    .unwrap();
    assert_eq!(p.network.unwrap().rtt_ms, 70.0);
    assert_eq!(p.cpu_slowdown, 2.0);
    assert_eq!(p.segment.form_factor.as_deref(), Some("tablet"));
    assert_eq!(p.segment.connection, None);
}

#[test]
fn inline_network_and_device_with_defaults() {
    let p = parse(
        "name = \"x\"\nnetwork = { rtt_ms = 100, down_kbps = 2000, up_kbps = 500, loss = 0.01 }\n\
         device = { width = 800, height = 600 }\nengine = \"cdp\"\nblock = [\"Ads.Example.com\", \"*.cdn.test\"]",
    )
    .unwrap();
    let n = p.network.unwrap();
    assert_eq!((n.loss, n.jitter_ms), (0.01, 0.0));
    let d = p.device.clone().unwrap();
    assert_eq!(
        (d.dpr, d.mobile, d.touch, d.user_agent),
        (1.0, false, false, None)
    );
    assert_eq!(p.block[0].to_string(), "ads.example.com");
    assert!(p.block[1].matches("img.CDN.test"));
    assert!(!p.block[1].matches("cdn.test"));
    assert!(!p.needs_proxy());
}

#[test]
fn no_network_means_unshaped_and_no_proxy() {
    let p = parse("name = \"plain\"\nnetwork = \"none\"\ncpu_slowdown = 1").unwrap();
    assert_eq!(p.network, None);
    assert!(!p.needs_proxy());
    let d = Profile::default_for_viewport(1280, 800);
    assert_eq!(d.name, DEFAULT_PROFILE_NAME);
    assert!(!d.needs_proxy());
}

#[test]
fn unknown_network_preset_lists_the_valid_ones() {
    let e = parse("name = \"m\"\nnetwork = \"5g\"").unwrap_err();
    assert!(
        e.contains("profile \"m\": unknown network preset \"5g\""),
        "{e}"
    );
    for name in ["slow-4g", "cable", "dsl", "3g", "3gfast", "4g", "lte"] {
        assert!(e.contains(name), "{name} missing in {e}");
    }
}

#[test]
fn unknown_device_and_profile_presets_are_named() {
    let e = parse("name = \"m\"\ndevice = \"iphone\"").unwrap_err();
    assert!(
        e.contains("unknown device preset \"iphone\"; valid presets: phone, desktop"),
        "{e}"
    );
    let e = parse("name = \"m\"\npreset = \"mobile\"").unwrap_err();
    assert!(e.contains("lighthouse-mobile, lighthouse-desktop"), "{e}");
}

#[test]
fn zero_or_negative_bandwidth_is_rejected() {
    let e =
        parse("name = \"m\"\nnetwork = { rtt_ms = 10, down_kbps = 0, up_kbps = 5 }").unwrap_err();
    assert!(
        e.contains("profile \"m\": `network.down_kbps` = 0 is invalid"),
        "{e}"
    );
    let e =
        parse("name = \"m\"\nnetwork = { rtt_ms = 10, down_kbps = 5, up_kbps = -1 }").unwrap_err();
    assert!(e.contains("`network.up_kbps` = -1"), "{e}");
}

#[test]
fn loss_must_be_below_one() {
    let e =
        parse("name = \"m\"\nnetwork = { rtt_ms = 10, down_kbps = 5, up_kbps = 5, loss = 1.0 }")
            .unwrap_err();
    assert!(
        e.contains("`network.loss` = 1 is invalid: a share in [0, 1)"),
        "{e}"
    );
    assert!(
        parse("name = \"m\"\nnetwork = { rtt_ms = 10, down_kbps = 5, up_kbps = 5, loss = -0.1 }")
            .is_err()
    );
}

#[test]
fn other_range_errors() {
    let e = parse("name = \"m\"\ncpu_slowdown = 0.5").unwrap_err();
    assert!(e.contains("`cpu_slowdown` = 0.5"), "{e}");
    let e = parse("name = \"m\"\ndevice = { width = 0, height = 10 }").unwrap_err();
    assert!(e.contains("`device.width` = 0"), "{e}");
    let e =
        parse("name = \"m\"\nnetwork = { rtt_ms = -5, down_kbps = 5, up_kbps = 5 }").unwrap_err();
    assert!(e.contains("`network.rtt_ms` = -5"), "{e}");
    let e = parse("name = \"m\"\nsegment = { connection = \"5g\" }").unwrap_err();
    assert!(
        e.contains("`segment.connection` = \"5g\" is not one of 4g, 3g, 2g, slow-2g"),
        "{e}"
    );
    let e = parse("name = \"  \"").unwrap_err();
    assert!(e.contains("empty `name`"), "{e}");
}

#[test]
fn hosts_must_be_hosts_and_hang_needs_the_proxy() {
    let e = parse("name = \"m\"\nblock = [\"https://ads.example.com/x.js\"]").unwrap_err();
    assert!(
        e.contains("`block` entry \"https://ads.example.com/x.js\" is not a host name"),
        "{e}"
    );
    let e = parse("name = \"m\"\nhang = [\"a.test:443\"]").unwrap_err();
    assert!(e.contains("leave out the port"), "{e}");
    let e = parse("name = \"m\"\nengine = \"cdp\"\nhang = [\"a.test\"]").unwrap_err();
    assert!(e.contains("`hang` needs `engine = \"proxy\"`"), "{e}");
}

#[test]
fn unknown_fields_and_engines_are_rejected_by_toml() {
    let e = parse("name = \"m\"\nnetwork = { rtt = 10, down_kbps = 5, up_kbps = 5 }").unwrap_err();
    assert!(e.contains("rtt"), "{e}");
    let e = parse("name = \"m\"\nengine = \"tc\"").unwrap_err();
    assert!(e.contains("proxy") && e.contains("cdp"), "{e}");
    let e = parse("name = \"m\"\ncpu = 4").unwrap_err();
    assert!(e.contains("cpu"), "{e}");
}

#[test]
fn duplicate_names_are_caught() {
    let a = parse("name = \"m\"").unwrap();
    assert_eq!(
        check_unique(&[a.clone(), a]),
        Err(ProfileError::DuplicateName("m".into()))
    );
}

#[test]
fn embedded_in_a_scenario_errors_carry_the_line() {
    #[derive(Deserialize)]
    struct Scenario {
        #[allow(dead_code)]
        profile: Vec<Profile>,
    }
    let text = "[[profile]]\nname = \"a\"\n\n[[profile]]\nname = \"b\"\nnetwork = \"5g\"\n";
    let e = toml::from_str::<Scenario>(text).err().unwrap().to_string();
    // toml points at the `[[profile]]` array; the message names the profile.
    assert!(e.contains("line "), "{e}");
    assert!(e.contains("profile \"b\""), "{e}");
}

#[test]
fn wildcard_host_matching() {
    let p = HostPattern::parse("*.example.com").unwrap();
    assert!(p.matches("a.example.com"));
    assert!(p.matches("a.b.example.com."));
    assert!(!p.matches("example.com"));
    assert!(!p.matches("badexample.com"));
    let p = HostPattern::parse("example.com").unwrap();
    assert!(p.matches("EXAMPLE.com"));
    assert!(!p.matches("a.example.com"));
}
