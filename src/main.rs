fn main() -> std::process::ExitCode {
    memscope::run()
}
