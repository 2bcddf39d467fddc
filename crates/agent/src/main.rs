//! `maas-agent`: the program `/init` runs in the ephemeral environment;
//! `maas-agent deployed-os [ROOT]` in the tiny test image.

use std::process::ExitCode;

use maas_agent::Env;
use maas_agent::cmdline::Cmdline;
use maas_agent::run::{After, run};

fn power(env: &Env, how: After) {
    unsafe { libc::sync() };
    let (what, cmd) = match how {
        After::Reboot => ("reboot", libc::RB_AUTOBOOT),
        _ => ("poweroff", libc::RB_POWER_OFF),
    };
    env.log(what, "now");
    if unsafe { libc::reboot(cmd) } != 0 {
        env.log(
            what,
            &format!("failed: {}", std::io::Error::last_os_error()),
        );
    }
}

fn shell_forever(env: &Env) -> ! {
    loop {
        let st = std::process::Command::new("/bin/sh").arg("-l").status();
        env.log(
            "rescue",
            &format!("shell exited ({st:?}); starting another"),
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = Env::machine();
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let cmd = Cmdline::parse(&cmdline);
    if args.first().map(String::as_str) == Some("deployed-os") {
        let root = args.get(1).map(String::as_str).unwrap_or("/");
        return match maas_agent::deployed::run(root.as_ref(), env.patience) {
            Ok(seen) => {
                println!("{}", seen.marker());
                if cmd.test_poweroff {
                    power(&env, After::PowerOff);
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                env.log("deployed-os", &format!("FAILED {e:#}"));
                ExitCode::FAILURE
            }
        };
    }
    if !args.is_empty() {
        eprintln!("usage: maas-agent [deployed-os [ROOT]]");
        return ExitCode::from(2);
    }
    match run(&env, &cmd) {
        Ok(After::Stay) => shell_forever(&env),
        Ok(how) => {
            power(&env, how);
            ExitCode::SUCCESS
        }
        Err(e) => {
            env.log("error", &format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}
