# Lean 4 + Mathlib + Pantograph, for the REPL pool of GPU workers (the pool runs `pantograph-repl Mathlib`).
# Pin the toolchain to the dataset's Lean version: runs refuse a dataset whose lean_version differs.
FROM ubuntu:22.04
ARG LEAN_TOOLCHAIN=leanprover/lean4:v4.24.0
ARG PANTOGRAPH_REF=v0.3.4
RUN apt-get update && apt-get install -y --no-install-recommends curl git ca-certificates build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN curl -sSf https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh | sh -s -- -y --default-toolchain ${LEAN_TOOLCHAIN}
ENV PATH=/root/.elan/bin:$PATH
WORKDIR /opt/pantograph
RUN git clone --depth 1 --branch ${PANTOGRAPH_REF} https://github.com/lenianiva/Pantograph.git . \
    && lake build repl && ln -s /opt/pantograph/.lake/build/bin/repl /usr/local/bin/pantograph-repl
WORKDIR /opt/mathlib-project
RUN lake new project math && cd project && lake exe cache get && lake build
ENV LEAN_PATH=/opt/mathlib-project/project/.lake/packages/mathlib/.lake/build/lib
