//! The seed's file snippets, run for real in a temporary directory:
//! write, read, append, readlines, binary mode, a GBK file read with
//! `errors='ignore'`, and StringIO / BytesIO.
//!
//! Run with `cargo run --example files`.

use std::error::Error;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use fetch_headers::buffers::{BytesIO, StringIO};
use fetch_headers::files::{self, Encoding, Errors, OpenOptions, Whence};

/// A directory of our own under the system temp dir, removed on drop even
/// if a step fails.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("fetch-headers-files-{}-{nanos}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let scratch = Scratch::new()?;
    let path = scratch.0.join("test.txt");

    println!("== write: open(path, 'w')");
    let mut f = files::open(&path, "w")?.text()?;
    let n = f.write("hello world\n")?;
    f.writelines(["second line\n", "third line\n"])?;
    f.close()?;
    println!("write() returned {n}");

    println!("== read: open(path, 'r').read()");
    let text = files::open(&path, "r")?.text()?.read(None)?;
    print!("{text}");

    println!("== append: the seed used open(path, '')");
    match files::open(&path, "") {
        Ok(_) => println!("unexpectedly accepted"),
        Err(e) => println!("{}: {e}", e.kind().python_exception()),
    }
    println!("so use 'a' instead");
    let mut f = files::open(&path, "a")?.text()?;
    f.seek(0, Whence::Start)?;
    f.write("appended line\n")?;
    f.close()?;

    println!("== readlines, each stripped");
    let lines = files::open(&path, "r")?.text()?.readlines(None)?;
    for line in &lines {
        println!("line: {:?}", line.trim());
    }

    println!("== binary mode: 'rb'");
    let mut f = files::open(&path, "rb")?.binary()?;
    let head = f.read(Some(5))?;
    println!(
        "read(5) = {:?}, tell() = {}",
        String::from_utf8_lossy(&head),
        f.tell()?
    );

    println!("== a GBK file read with errors='ignore'");
    let gbk_path = scratch.0.join("gbk.txt");
    let mut bytes = Encoding::from_name("gbk")?.encode("中文内容\n", Errors::Strict)?;
    bytes.extend_from_slice(b"bad byte \xff here\n");
    std::fs::write(&gbk_path, &bytes)?;
    let strict = OpenOptions::new()
        .encoding("gbk")
        .open(&gbk_path, "r")?
        .text()?
        .read(None);
    if let Err(e) = strict {
        println!("strict: {}: {e}", e.kind().python_exception());
    }
    let mut f = OpenOptions::new()
        .encoding("gbk")
        .errors("ignore")
        .open(&gbk_path, "r")?
        .text()?;
    for line in &mut f {
        print!("ignore: {}", line?);
    }

    println!("== StringIO");
    let mut s = StringIO::new("initial");
    s.write("XY")?;
    println!("after write('XY'): {:?}", s.getvalue()?);
    s.seek(0, Whence::End)?;
    write!(s, " and {} more", 3)?;
    println!("getvalue(): {:?}, tell(): {}", s.getvalue()?, s.tell()?);

    println!("== BytesIO");
    let mut b = BytesIO::new(b"abc");
    b.seek(10, Whence::Start)?;
    b.write(b"Z")?;
    println!("getvalue(): {:?}", String::from_utf8_lossy(b.getvalue()?));
    b.close();
    if let Err(e) = b.read(None) {
        println!("after close: {}: {e}", e.kind().python_exception());
    }

    println!("done; removing {}", scratch.0.display());
    Ok(())
}
