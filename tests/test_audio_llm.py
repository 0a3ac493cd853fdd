import copy
import json
from dataclasses import replace

import pytest
import soundfile
import torch
import torch.nn.functional as F

from balsa_core.adapter import AdapterConfig, QFormerAdapter
from balsa_core.audio_llm import ADAPTER_CONFIG, IGNORE_INDEX, AudioLLM, AudioLLMSpec, Example, shared_prefix_length
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


def full_forward_losses(model: AudioLLM, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The step the library replaced: every position through the LLM, logits everywhere."""
    logits = model.llm(inputs_embeds=model.embed(batch), attention_mask=batch["attention_mask"]).logits
    labels = batch["labels"][:, 1:]
    logits = logits[:, :-1].to(torch.promote_types(logits.dtype, torch.float32))
    token_losses = F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=IGNORE_INDEX, reduction="none")
    counted = (labels != IGNORE_INDEX).to(token_losses.dtype)
    return (token_losses * counted).sum(dim=1) / counted.sum(dim=1).clamp(min=1)


def mixed_examples() -> list[Example]:
    """Different prompt and target lengths, and one example with two audio slots."""
    return [
        example(5),
        Example([torch.randn(2, 9, 32), torch.randn(2, 4, 32)], "Caption both.", "rain falls on a roof, a dog barks"),
        Example([torch.randn(2, 7, 32)], "Identify sounds that are absent as contrasting examples.", "birds"),
    ]


def adapter_gradients(model: AudioLLM, loss: torch.Tensor) -> list[torch.Tensor]:
    model.adapter.zero_grad(set_to_none=True)
    loss.backward()
    return [p.grad.clone() for p in model.adapter.parameters()]


def test_the_step_gives_the_full_forwards_losses_and_gradients(model):
    batch = model.collate(mixed_examples())
    assert shared_prefix_length(batch["input_ids"], batch["audio_mask"]) > 0, "a shared prefix to cache"
    model.train()  # dropout is off in the fixture: both forwards see the same adapter outputs
    expected, got = full_forward_losses(model, batch), model.per_example_loss(batch)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)
    for new, old in zip(adapter_gradients(model, got.mean()), adapter_gradients(model, expected.mean())):
        torch.testing.assert_close(new, old, atol=1e-5, rtol=0)


def test_in_fp64_the_step_is_the_full_forwards_math(model):
    """Beyond fp32 rounding (the atol above): with the whole model in fp64 the losses agree to
    fp64 rounding, so the step leaves out only work the loss does not depend on."""
    llm, adapter = copy.deepcopy(model.llm).double(), copy.deepcopy(model.adapter).double()
    model64 = AudioLLM(llm, model.tokenizer, adapter, model.template, model.max_target_tokens)
    batch = model64.collate(mixed_examples())
    batch["features"] = batch["features"].double()
    got = model64.per_example_loss(batch)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got, full_forward_losses(model64, batch), atol=1e-10, rtol=0)


def test_length_sorted_micro_batches_give_the_global_batchs_gradient(model):
    examples = [*mixed_examples(), example(3, target="a bell"), example(8, target="an engine hums for a while")]
    batches = model.length_sorted_batches(examples, size=2)
    assert [len(batch["labels"]) for batch in batches] == [2, 2, 1]
    lengths = [int(batch["attention_mask"].sum(dim=1).max()) for batch in batches]
    assert lengths == sorted(lengths), "cut in order of length"
    whole = adapter_gradients(model, full_forward_losses(model, model.collate(examples)).mean())
    model.adapter.zero_grad(set_to_none=True)
    for batch in batches:
        (model(batch) * len(batch["labels"]) / len(examples)).backward()
    for accumulated, expected in zip([p.grad for p in model.adapter.parameters()], whole):
        torch.testing.assert_close(accumulated, expected, atol=1e-5, rtol=0)


def test_the_prefix_cache_is_computed_once_and_never_changed(model):
    first, second = model.collate([example(5), example(9)]), model.collate([example(4)] * 3)
    model.per_example_loss(first)
    ((key, kept),) = model._prefix_caches.items()
    snapshot = [(layer.keys.clone(), layer.values.clone()) for layer in kept.layers]
    model.per_example_loss(second).mean().backward()
    model.per_example_loss(first)
    assert list(model._prefix_caches) == [key], "one prefix, computed once"
    assert kept.get_seq_length() == len(key[0]) and kept.layers[0].keys.shape[0] == 1
    for layer, (keys, values) in zip(kept.layers, snapshot):
        assert torch.equal(layer.keys, keys) and torch.equal(layer.values, values)


def test_a_backbone_that_transforms_its_logits_is_refused(tiny_llm, monkeypatch):
    llm, tokenizer = tiny_llm
    monkeypatch.setattr(llm.config, "final_logit_softcapping", 30.0, raising=False)
    config = AdapterConfig(encoder_dim=32, llm_dim=llm.config.hidden_size, num_encoder_layers=2, num_heads=4)
    with pytest.raises(ValueError, match="final_logit_softcapping"):
        AudioLLM(llm, tokenizer, QFormerAdapter(config), PromptTemplate())


def tiny_spec(model, tiny_llm_dir, tiny_whisper_dir) -> AudioLLMSpec:
    return AudioLLMSpec(
        adapter=model.adapter.config,
        llm_path=str(tiny_llm_dir),
        encoder_path=str(tiny_whisper_dir),
        encoder_layers=[1, 2],
        template=model.template,
    )


def test_an_adapter_saved_before_the_system_message_setting_renders_as_it_did(model, tiny_llm_dir, tmp_path):
    spec = replace(tiny_spec(model, tiny_llm_dir, tiny_llm_dir), template=PromptTemplate(system_message="Listen."))
    model.save_adapter(tmp_path, spec)
    assert AudioLLMSpec.from_json((tmp_path / ADAPTER_CONFIG).read_text()) == spec
    raw = json.loads((tmp_path / ADAPTER_CONFIG).read_text())
    assert raw["template"].pop("system_message") == "Listen."
    assert AudioLLMSpec.from_json(json.dumps(raw)).template == PromptTemplate(system_message=None)


def test_from_pretrained_restores_the_trained_adapter(model, tiny_llm_dir, tiny_whisper_dir, tmp_path):
    spec = tiny_spec(model, tiny_llm_dir, tiny_whisper_dir)
    model.save_adapter(tmp_path, spec)
    restored = AudioLLM.from_pretrained(tmp_path)
    assert restored.spec == spec
    for name, tensor in model.adapter.state_dict().items():
        torch.testing.assert_close(restored.adapter.state_dict()[name], tensor)
    probe = [example(7, None)]
    assert restored.generate_batch(probe, max_new_tokens=5) == model.generate_batch(probe, max_new_tokens=5)


def test_generate_answers_about_several_audio_files_through_the_encoder(
    model, tiny_llm_dir, tiny_whisper_dir, tmp_path
):
    spec = tiny_spec(model, tiny_llm_dir, tiny_whisper_dir)
    model.save_adapter(tmp_path / "adapter", spec)
    restored = AudioLLM.from_pretrained(tmp_path / "adapter")
    tone = torch.sin(torch.arange(16_000) * 0.05).numpy().astype("float32")
    paths = [tmp_path / "a.wav", tmp_path / "b.wav"]
    soundfile.write(paths[0], tone, 16_000)
    soundfile.write(paths[1], tone[:8_000] * 0.5, 16_000)

    answer = restored.generate(paths, "Explain the difference between the audio clips.", max_new_tokens=5)
    features = restored.listener.encode([soundfile.read(path, dtype="float32")[0] for path in paths])
    assert [f.shape[:2] for f in features] == [(2, 50), (2, 25)], "one span per audio, trimmed to its length"
    expected = restored.generate_batch([Example(features, "Explain the difference between the audio clips.")], 5)
    assert answer == expected[0]
    without_encoder = AudioLLM.from_pretrained(tmp_path / "adapter", with_encoder=False)
    with pytest.raises(ValueError, match="no encoder"):
        without_encoder.generate(paths, "What do you hear?")
