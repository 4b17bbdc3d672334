//! `skip_note!`: a test that cannot run here (no root, no tshark, …) says so where a
//! developer sees it. A skipped test passes, and the test harness shows what a passing
//! test prints only with `--nocapture`: this writes to the standard error past that
//! capture, naming the test (the harness names each test's thread after it).
//!
//! Include it before any module that uses it:
//! `#[macro_use] #[path = "../../../test-support/skip.rs"] mod skip;`
#![allow(unused_macros)]

/// `skip_note!("skipped: needs root ({why})")`: one line on the standard error,
/// `TEST_NAME: skipped: needs root (…)`.
macro_rules! skip_note {
    ($($arg:tt)*) => {{
        let _ = std::io::Write::write_fmt(
            &mut std::io::stderr(),
            format_args!(
                "{}: {}\n",
                std::thread::current()
                    .name()
                    .filter(|n| !n.is_empty() && *n != "main")
                    .unwrap_or("a test"),
                format_args!($($arg)*)
            ),
        );
    }};
}
