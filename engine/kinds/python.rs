//! The Python kind: the locked wheels the `PyPI` source put into
//! `src/wheels` installed with pip for the target's Python (its version and
//! platform tags, never the build machine's), without network, without
//! resolving dependencies (the lock names every distribution) and without
//! byte-compiling; console scripts go to `/usr/bin` with the target's
//! interpreter in their first line.

use super::StepCtx;
use crate::error::Result;
use crate::sources::pypi::{PYTHON, wheel_args};

pub fn build(ctx: &mut StepCtx, python: &str, platforms: &[String], site: &str) -> Result<()> {
    let selection: Vec<String> = wheel_args(python, platforms)
        .iter()
        .map(|a| shell_quote(a))
        .collect();
    // pip writes scripts into `<site>/bin` with `--target`; they belong in
    // /usr/bin and must name the target's python3.
    let script = format!(
        "site=\"$TARGET_DIR{site}\"\n\
         PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 \
         {PYTHON} -m pip install --no-index --find-links \"$SRC_DIR/wheels\" \
         --require-hashes --no-deps --no-compile --no-input --root-user-action=ignore \
         {selection} --target \"$site\" -r \"$SRC_DIR/requirements.txt\"\n\
         if [ -d \"$site/bin\" ]; then\n\
           mkdir -p \"$TARGET_DIR/usr/bin\"\n\
           for f in \"$site\"/bin/*; do\n\
             n=\"$TARGET_DIR/usr/bin/${{f##*/}}\"\n\
             if head -n 1 \"$f\" | grep -q '^#!.*python'; then\n\
               {{ echo '#!/usr/bin/python3'; tail -n +2 \"$f\"; }} > \"$n\"; chmod 755 \"$n\"; rm \"$f\"\n\
             else mv \"$f\" \"$n\"; fi\n\
           done\n\
           rmdir \"$site/bin\"\n\
         fi",
        selection = selection.join(" "),
    );
    ctx.run(&script)
}

fn shell_quote(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:=/".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
