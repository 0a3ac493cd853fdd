import pytest
import soundfile
import torch

from balsa_core.adapter import AdapterConfig, QFormerAdapter
from balsa_core.audio_llm import IGNORE_INDEX, AudioLLM, AudioLLMSpec, Example
from balsa_core.prompts import PromptTemplate

QUERIES = 4


@pytest.fixture()
def model(tiny_llm):
    llm, tokenizer = tiny_llm
    torch.manual_seed(0)
    config = AdapterConfig(
        encoder_dim=32,
        llm_dim=llm.config.hidden_size,
        num_encoder_layers=2,
        num_queries=QUERIES,
        num_heads=4,
        dropout=0.0,
    )
    return AudioLLM(llm, tokenizer, QFormerAdapter(config), PromptTemplate())


def example(frames: int, target: str | None = "a siren wails") -> Example:
    return Example(features=[torch.randn(2, frames, 32)], instruction="Replay the audio.", target=target)


def test_loss_only_on_target_tokens(model):
    batch = model.collate([example(6), example(9, target="rain falls on a roof")])
    for row in range(2):
        labelled = batch["labels"][row] != IGNORE_INDEX
        first = int(labelled.nonzero()[0])
        target = batch["input_ids"][row][labelled].tolist()
        assert target[-1] == model.tokenizer.eos_token_id
        assert not batch["audio_mask"][row][first:].any(), "no audio inside the target"
    assert batch["audio_mask"].sum(dim=1).tolist() == [QUERIES, QUERIES]
    assert batch["frame_mask"].sum(dim=1).tolist() == [6, 9]


def test_adapter_outputs_land_in_the_audio_slots(model):
    batch = model.collate([example(5), example(8)])
    embeddings = model.embed(batch)
    audio = model.adapter(batch["features"], batch["frame_mask"])
    torch.testing.assert_close(embeddings[batch["audio_mask"]], audio.reshape(-1, audio.shape[-1]))
    text = model.llm.get_input_embeddings()(batch["input_ids"])
    torch.testing.assert_close(embeddings[~batch["audio_mask"]], text[~batch["audio_mask"]])


def test_gradients_reach_only_the_adapter(model):
    model.train()
    model(model.collate([example(5)])).backward()
    assert all(p.grad is None for p in model.llm.parameters())
    assert all(p.grad is not None for p in model.adapter.parameters())
    assert not model.llm.training, "the frozen LLM stays in eval mode"


def test_batched_generation_matches_one_at_a_time(model):
    examples = [example(5, None), example(11, None), example(3, None)]
    batched = model.generate_batch(examples, max_new_tokens=6)
    single = [model.generate_batch([e], max_new_tokens=6)[0] for e in examples]
    assert batched == single


def tiny_spec(model, tiny_llm_dir, tiny_whisper_dir) -> AudioLLMSpec:
    return AudioLLMSpec(
        adapter=model.adapter.config,
        llm_path=str(tiny_llm_dir),
        encoder_path=str(tiny_whisper_dir),
        encoder_layers=[1, 2],
        template=PromptTemplate(),
    )


def test_from_pretrained_restores_the_trained_adapter(model, tiny_llm_dir, tiny_whisper_dir, tmp_path):
    spec = tiny_spec(model, tiny_llm_dir, tiny_whisper_dir)
    model.save_adapter(tmp_path, spec)
    restored, restored_spec = AudioLLM.from_pretrained(tmp_path)
    assert restored_spec == spec
    for name, tensor in model.adapter.state_dict().items():
        torch.testing.assert_close(restored.adapter.state_dict()[name], tensor)
    probe = [example(7, None)]
    assert restored.generate_batch(probe, max_new_tokens=5) == model.generate_batch(probe, max_new_tokens=5)


def test_generate_answers_about_several_audio_files_through_the_encoder(
    model, tiny_llm_dir, tiny_whisper_dir, tmp_path
):
    spec = tiny_spec(model, tiny_llm_dir, tiny_whisper_dir)
    model.save_adapter(tmp_path / "adapter", spec)
    restored, _ = AudioLLM.from_pretrained(tmp_path / "adapter")
    tone = torch.sin(torch.arange(16_000) * 0.05).numpy().astype("float32")
    paths = [tmp_path / "a.wav", tmp_path / "b.wav"]
    soundfile.write(paths[0], tone, 16_000)
    soundfile.write(paths[1], tone[:8_000] * 0.5, 16_000)

    answer = restored.generate(paths, "Explain the difference between the audio clips.", max_new_tokens=5)
    features = restored.listener.encode([soundfile.read(path, dtype="float32")[0] for path in paths])
    assert [f.shape[:2] for f in features] == [(2, 50), (2, 25)], "one span per audio, trimmed to its length"
    expected = restored.generate_batch([Example(features, "Explain the difference between the audio clips.")], 5)
    assert answer == expected[0]
    without_encoder, _ = AudioLLM.from_pretrained(tmp_path / "adapter", with_encoder=False)
    with pytest.raises(ValueError, match="no encoder"):
        without_encoder.generate(paths, "What do you hear?")
