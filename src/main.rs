use aidledger::commands::Cli;
use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How much less CPU priority the runtime's threads (request handlers, blocking work)
/// take than the thread that starts the log, when the log's database is SQLite inside
/// this process: when both cores are busy, the log's integrator and its connection's
/// thread, a serial stage that hands the database one statement after another, are
/// then scheduled first on each wake-up instead of queueing behind handlers (1.2–1.6 × the
/// appends under load, BENCHMARKS.md). With PostgreSQL that work is the database
/// server's processes, which lowered handlers would queue behind instead (0.85 × when
/// it shares the machine), so the priority is left alone. Lowering one's own priority
/// needs no privilege.
const HANDLER_NICENESS: libc::c_int = 10;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if cli.serves_an_embedded_database() {
        // SAFETY: getpriority reads only its integer arguments.
        let started_at = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let handlers = started_at + HANDLER_NICENESS;
        runtime.on_thread_start(move || set_this_threads_priority(handlers));
    }
    let runtime = runtime.build().expect("the runtime starts");
    match runtime.block_on(cli.run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Sets the calling thread's niceness (on Linux a thread's own; threads it starts
/// inherit it, so it is set absolutely, not added to what the thread has).
fn set_this_threads_priority(niceness: libc::c_int) {
    // SAFETY: setpriority reads only its integer arguments; failing leaves the
    // priority as it was, which is harmless.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, niceness);
    }
}
