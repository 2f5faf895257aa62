//! What a packaged command ships besides itself, generated from its own definition (clap): shell
//! completion scripts (`kudu-state completions SHELL`), man pages (`kudu-state man`), and the version
//! line with the git revision of the build (set by `build.rs`).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory};
use kudu_state::{Error, Result};

use crate::EXIT_OK;
use crate::commands::{Io, stdout_error};

/// `0.1.0 (rev 0123456789ab, x86_64-unknown-linux-gnu)`: what `--version` prints after the name.
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (rev ",
    env!("KUDU_STATE_GIT_REV"),
    ", ",
    env!("KUDU_STATE_TARGET"),
    ")"
);

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell, e.g. `kudu-state completions bash > /etc/bash_completion.d/kudu-state`.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// Write one page per command (kudu-state.1, kudu-state-diagnose.1, …) into this folder instead
    /// of printing kudu-state.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The command's definition, built (subcommands know their full names, `kudu-state-diagnose`).
fn command(help_subcommand: bool) -> clap::Command {
    let mut cmd = crate::args::Cli::command().disable_help_subcommand(!help_subcommand);
    cmd.build();
    cmd
}

pub(crate) fn completions(a: &CompletionsArgs, io: &mut Io<'_>) -> Result<i32> {
    // Rendered into memory first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut command(true), "kudu-state", &mut script);
    io.out.write_all(&script).map_err(|e| stdout_error(&e))?;
    Ok(EXIT_OK)
}

pub(crate) fn man(a: &ManArgs, io: &mut Io<'_>) -> Result<i32> {
    let cmd = command(false);
    let Some(dir) = &a.dir else {
        let page = render(&cmd)?;
        io.out.write_all(&page).map_err(|e| stdout_error(&e))?;
        return Ok(EXIT_OK);
    };
    // std::fs, not fs-err: the error gets its path once, in `Error::Io`.
    std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir.clone(), e))?;
    let mut pages = vec![cmd.clone()];
    pages.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    for page in pages {
        let man = clap_mangen::Man::new(page.clone());
        let path = dir.join(man.get_filename());
        let page = render(&page)?;
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(&page))
            .map_err(|e| io_error("write", path.clone(), e))?;
        let _ = writeln!(io.out, "{}", path.display());
    }
    Ok(EXIT_OK)
}

fn render(cmd: &clap::Command) -> Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .map_err(|e| io_error("render", PathBuf::from("<man page>"), e))?;
    Ok(page)
}

fn io_error(op: &'static str, path: PathBuf, source: std::io::Error) -> Error {
    Error::Io { op, path, source }
}
