// The Go import allocates and frees millions of small strings and vectors
// from several threads; mimalloc's per-thread free lists make that much
// cheaper than glibc's arenas (benchmark P3, README).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(porttrack::cli::run(std::env::args_os()));
}
