//! Runs `examples/files.rs` through cargo and checks its key lines, so the
//! example keeps working as the library changes.

use std::process::Command;

#[test]
fn the_files_example_runs() {
    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--release", "--example", "files"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "example failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in [
        "write() returned 12",
        "ValueError: Must have exactly one of create/read/write/append mode and at most one plus",
        "line: \"appended line\"",
        "read(5) = \"hello\", tell() = 5",
        "strict: UnicodeDecodeError: 'gbk' codec can't decode byte 0xff in position 18: illegal multibyte sequence",
        "ignore: 中文内容",
        "ignore: bad byte  here",
        "after write('XY'): \"XYitial\"",
        "getvalue(): \"XYitial and 3 more\", tell(): 18",
        "getvalue(): \"abc\\0\\0\\0\\0\\0\\0\\0Z\"",
        "after close: ValueError: I/O operation on closed file.",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}
