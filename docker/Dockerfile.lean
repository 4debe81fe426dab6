# Lean 4 + Mathlib + Pantograph, for the REPL pool of GPU workers (the pool runs `pantograph-repl`).
# The three versions are pinned together: each Pantograph release is built for one Lean toolchain, and Mathlib's
# tag of the same name is the one built for it. Runs refuse a dataset whose lean_version differs, and read the
# versions from `pantograph-repl --version` (docs/deployment.md#versions), which answers from versions.json.
FROM ubuntu:22.04
ARG PANTOGRAPH_REF=v0.3.4
ARG LEAN_TOOLCHAIN=v4.21.0
ARG MATHLIB_REF=v4.21.0
RUN apt-get update && apt-get install -y --no-install-recommends curl git ca-certificates build-essential \
    && rm -rf /var/lib/apt/lists/*
# Outside /root, so the unprivileged worker user can run the toolchain.
ENV ELAN_HOME=/opt/elan PATH=/opt/elan/bin:$PATH
RUN curl -sSf https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh \
    | sh -s -- -y --no-modify-path --default-toolchain leanprover/lean4:${LEAN_TOOLCHAIN} && chmod -R a+rX /opt/elan
WORKDIR /opt/pantograph
RUN git clone --depth 1 --branch ${PANTOGRAPH_REF} https://github.com/lenianiva/Pantograph.git . \
    && lake build repl
WORKDIR /opt/mathlib-project
RUN printf 'import Lake\nopen Lake DSL\npackage project\nrequire mathlib from git "https://github.com/leanprover-community/mathlib4" @ "%s"\n' \
        "${MATHLIB_REF}" > lakefile.lean \
    && echo "leanprover/lean4:${LEAN_TOOLCHAIN}" > lean-toolchain \
    && lake update && lake exe cache get && lake build
ENV LEAN_PATH=/opt/mathlib-project/.lake/packages/mathlib/.lake/build/lib
RUN mkdir -p /etc/burnqed && printf '{"pantograph": "%s", "lean": "%s", "mathlib": "%s"}\n' \
        "${PANTOGRAPH_REF#v}" "${LEAN_TOOLCHAIN#v}" "${MATHLIB_REF#v}" > /etc/burnqed/versions.json
COPY docker/pantograph-repl /usr/local/bin/pantograph-repl
RUN chmod 755 /usr/local/bin/pantograph-repl
