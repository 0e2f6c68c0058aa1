fn main() -> color_eyre::eyre::Result<std::process::ExitCode> {
    memscope::run()
}
