"""`python -m training ebm` on a tiny trajectory file: in-process encoder over a tiny Llama, and /encode over HTTP."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch

from prover.serving.tiny_model import build_tiny_llama
from prover.value import load_energy_head
from tests.training.ebm_helpers import SignalEmbedder, engine_trajectory_file, toy_rows, write_rows
from training.__main__ import main as training_main
from training.ebm.cli import main
from training.ebm.embeddings import HttpEmbedder, InProcessEmbedder
from training.ebm.train import META_FILENAME


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("tiny") / "model", hidden=32, layers=1, heads=2, kv_heads=1)


async def test_cli_with_the_in_process_encoder(tmp_path, tiny_model, capsys):
    engine_file = await engine_trajectory_file(tmp_path / "engine.parquet")
    toy_file = write_rows(tmp_path / "toy.parquet", toy_rows(6))
    out = tmp_path / "ebm"
    code = training_main(["ebm", "--trajectories", str(engine_file), str(toy_file), "--model", str(tiny_model),
                          "--output", str(out), "--steps", "12", "--batch-size", "8", "--negatives", "3",
                          "--val-fraction", "0.3", "--eval-every", "6", "--hidden-dims", "8", "4", "--quiet"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["stop_reason"] == "completed" and summary["steps_done"] == 12
    assert "train/loss" in summary["final_metrics"]
    head = load_energy_head(out, expected_embedding_dim=32, expected_backbone_id=str(tiny_model))
    assert head.config.hidden_dims == (8, 4)
    meta = json.loads((out / META_FILENAME).read_text())
    assert [d["path"] for d in meta["data"]] == [str(engine_file), str(toy_file)]


def test_in_process_embedder_pools_each_text(tiny_model):
    embedder = InProcessEmbedder(tiny_model)
    vectors = embedder.embed(["⊢ x = 2", "n : ℕ\n⊢ n + 0 = n", "⊢ x = 2"])
    assert vectors.shape == (3, 32) and torch.isfinite(vectors).all()
    assert torch.allclose(vectors[0], vectors[2], atol=1e-5)
    with pytest.raises(ValueError, match="empty"):
        embedder.embed([""])


class _EncodeHandler(BaseHTTPRequestHandler):
    embedder = SignalEmbedder(dim=16)
    bodies: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.bodies.append(body)
        texts = body["text"] if isinstance(body["text"], list) else [body["text"]]
        vectors = self.embedder.embed(texts).tolist()
        reply = {"embeddings": vectors} if isinstance(body["text"], list) else {"embedding": vectors[0]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_cli_through_an_encode_server(tmp_path, capsys):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EncodeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        toy_file = write_rows(tmp_path / "toy.parquet", toy_rows(6))
        code = main(["--trajectories", str(toy_file), "--encoder-url", url, "--hidden-size", "16",
                     "--backbone-id", "toy-http", "--output", str(tmp_path / "out"), "--steps", "5",
                     "--hidden-dims", "8", "4", "2", "--val-fraction", "0.3", "--quiet"])
        assert code == 0
        first = load_energy_head(tmp_path / "out", expected_embedding_dim=16, expected_backbone_id="toy-http")
        # Each distinct text crossed the wire once, never an empty one.
        assert max(_EncodeHandler.embedder.seen.values()) == 1 and "" not in _EncodeHandler.embedder.seen
        # A second run continues from the first head (its shape comes from the checkpoint).
        assert main(["--trajectories", str(toy_file), "--encoder-url", url, "--hidden-size", "16",
                     "--init-from", str(tmp_path / "out"), "--output", str(tmp_path / "again"), "--steps", "2",
                     "--val-fraction", "0.3", "--quiet"]) == 0
        again = load_energy_head(tmp_path / "again")
        assert again.config.hidden_dims == first.config.hidden_dims == (8, 4, 2)
        assert main(["--trajectories", str(toy_file), "--encoder-url", url, "--hidden-size", "16",
                     "--init-from", str(tmp_path / "nothing"), "--output", str(tmp_path / "x"), "--quiet"]) == 2
        assert all(b["hidden_size"] == 16 for b in _EncodeHandler.bodies)
        embedder = HttpEmbedder(url, hidden_size=16, backbone_id="x")
        assert embedder.embed(["⊢ a"]).shape == (1, 16)
        embedder.close()
    finally:
        server.shutdown()
        server.server_close()


def test_cli_errors(tmp_path, capsys):
    assert main(["--trajectories", str(tmp_path / "none.parquet"), "--encoder-url", "http://127.0.0.1:9",
                 "--hidden-size", "8", "--output", str(tmp_path / "o")]) == 2
    assert "no such trajectory file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["--trajectories", "x.parquet", "--encoder-url", "http://127.0.0.1:9", "--output", "o"])
    assert caught.value.code == 2 and "--hidden-size" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--trajectories", "x.parquet", "--model", "m", "--encoder-url", "http://h", "--output", "o"])
    with pytest.raises(SystemExit):
        main(["--trajectories", "x.parquet", "--model", "m", "--output", "o", "--steps", "0"])
