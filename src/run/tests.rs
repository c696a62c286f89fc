use super::*;

fn sample() -> Sample {
    Sample::failed(0, "home", "default", "http://127.0.0.1/", "x".into())
}

#[test]
fn creating_a_sink_leaves_an_earlier_samples_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("samples.ndjson");
    std::fs::write(&file, "earlier\n").unwrap();
    let sink = SampleSink::create(dir.path()).unwrap();
    // What a run that fails to start chromedriver does: drop the sink unused.
    drop(sink);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "earlier\n");
    assert!(!dir.path().join("samples.previous.ndjson").exists());
}

#[test]
fn the_first_sample_moves_the_earlier_file_to_previous() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("samples.ndjson");
    std::fs::write(&file, "earlier\n").unwrap();
    let mut sink = SampleSink::create(dir.path()).unwrap();
    sink.write(&mut sample()).unwrap();
    sink.write(&mut sample()).unwrap();
    let previous = dir.path().join("samples.previous.ndjson");
    assert_eq!(sink.previous_path(), previous);
    assert_eq!(std::fs::read_to_string(&previous).unwrap(), "earlier\n");
    let now = std::fs::read_to_string(&file).unwrap();
    assert_eq!(now.lines().count(), 2, "{now}");
}

#[test]
fn a_directory_in_place_of_the_samples_file_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("samples.ndjson")).unwrap();
    let Err(e) = SampleSink::create(dir.path()) else {
        panic!("a directory was accepted as the samples file")
    };
    assert!(e.to_string().contains("is a directory"), "{e}");
    assert!(
        e.to_string().contains("pass another --out directory"),
        "{e}"
    );
}

#[test]
fn the_sink_locks_its_directory_with_this_pid() {
    let dir = tempfile::tempdir().unwrap();
    let _sink = SampleSink::create(dir.path()).unwrap();
    let pid = std::fs::read_to_string(dir.path().join(DirLock::FILE_NAME)).unwrap();
    assert_eq!(pid.trim(), std::process::id().to_string());
}

#[test]
fn the_default_concurrency_is_one_browser_per_two_cores() {
    let by_cores: Vec<usize> = [1, 2, 3, 4, 6, 8, 16, 64]
        .into_iter()
        .map(concurrency_for)
        .collect();
    assert_eq!(by_cores, [1, 1, 1, 2, 3, 4, 4, 4]);
}
