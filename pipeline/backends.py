"""Inference backends: how one batch of token ids becomes English text.

The Translator owns everything around a batch (splitting, sorting, batching, checks, order);
a backend only runs the model. `transformers` runs the checkpoint as saved; `ctranslate2`
(pipeline/ct2.py) runs an int8 copy of it. Both take and give the same things, so a route
switches backend in config.yaml alone.

Both backends generate with the checkpoint's own settings where the pipeline sets none (BART's
forced `<s>`, length penalty and input prefix: `LoadedModel.generation`), and neither can produce
`<unk>` or an id the tokenizer has no token for (NLLB's embedding has two such rows): an `<unk>`
would vanish from the English without a trace, and an id beyond the tokenizer cannot be decoded.

The types both sides of a batch share live here, below the stages and the model store: a model's
spec (`ModelSpec`, the entries under `models:`), a loaded model (`LoadedModel`) and the decoding
settings (`DecodingOptions`, `SummaryDecoding`). The model store finds a backend by name in
`BACKENDS`, so it imports none of them.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MODEL_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class ModelSpec(BaseModel):
    """One model that config.yaml can route to.

    Attributes:
        id: the Hugging Face Hub repository ("facebook/nllb-200-distilled-600M").
        revision: a branch, tag or commit to download; `make models` locks it to a commit.
        path: a local directory to load instead of the Hub copy (relative to config.yaml).
        family: how the tokenizer is told the languages: `nllb` (src_lang + forced
            `eng_Latn`), `marian` (one language pair, no codes), `bart` (English summarizer).
        max_input_tokens: longer inputs are split before they reach the model.
        backend: `transformers` runs the checkpoint as downloaded; `ctranslate2` runs an int8
            copy of it (`newsbrief models convert`, done by `make models`): several times
            faster on a CPU and a quarter of the memory, and its process never imports torch.
        quantization: the CTranslate2 copy's weight type (`int8` on CPU; `int8_float16` or
            `float16` for CUDA).
        output_vocabulary: which tokens a CTranslate2 translation model scores at each step.
            `english`: only the pieces its own tokenizer cuts English into (`vmap.txt`, written
            by `models convert`); `latin`: every Latin-script token; `all`: the whole
            vocabulary. Fewer rows are faster, most of all for NLLB's 256k-token vocabulary.
            `auto` (the default): `english` once `newsbrief models verify` has found that it
            translates its built-in texts exactly as the whole vocabulary does on this copy of
            the model (the decision is kept in models/models.lock.json); `all` until then, and
            for a transformers backend or the summarizer. See docs/fast-path.md.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    revision: str = "main"
    path: str | None = None
    family: Literal["nllb", "marian", "bart"]
    max_input_tokens: int = Field(512, gt=8)
    backend: Literal["transformers", "ctranslate2"] = "transformers"
    quantization: Literal["int8", "int8_float32", "int8_float16", "float16", "float32"] = "int8"
    output_vocabulary: Literal["auto", "all", "english", "latin"] = "auto"

    @model_validator(mode="after")
    def _a_map_needs_a_converted_translator(self) -> ModelSpec:
        forced = self.output_vocabulary in ("english", "latin")
        if forced and (self.backend != "ctranslate2" or self.family == "bart"):
            raise ValueError(
                f"output_vocabulary: {self.output_vocabulary} needs backend ctranslate2 "
                "and a translation model"
            )
        return self

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not MODEL_ID_RE.match(value):
            raise ValueError(f"malformed model id {value!r}: expected 'organisation/name'")
        return value


class DecodingOptions(BaseModel):
    """Generation settings for translation.

    Attributes:
        num_beams: beam search width (1 = greedy).
        max_length_ratio: output budget per sentence = ratio × source tokens + 10, capped by
            `max_new_tokens`; an output that reaches it is flagged as cut.
        max_new_tokens: hard ceiling on output tokens per sentence.
        no_repeat_ngram_size: forbids repeating any n-gram of this size (0 = off); a guard
            against the repetition loops seq2seq models fall into.
        repetition_penalty: >1 discourages repeated tokens.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_beams: int = Field(4, ge=1)
    max_length_ratio: float = Field(2.0, gt=0)
    max_new_tokens: int = Field(400, gt=0)
    no_repeat_ngram_size: int = Field(0, ge=0)
    repetition_penalty: float = Field(1.0, ge=1.0)


def token_batches(order: list[int], lengths: list[int], max_tokens: int, max_items: int) -> list[list[int]]:
    """Groups indices (given longest first) so that each batch's padded tokens (its longest
    input × its size) stay within `max_tokens`, and its size within `max_items`."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = max([lengths[j] for j in current] + [lengths[i]])
        if current and (longest * (len(current) + 1) > max_tokens or len(current) >= max_items):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


@dataclass(frozen=True)
class SummaryDecoding:
    """How a summary is generated (the summarizer's own settings come from its options)."""

    num_beams: int
    min_new_tokens: int
    max_new_tokens: int
    no_repeat_ngram_size: int = 3


class Backend(Protocol):
    def generate_batch(
        self,
        loaded: LoadedModel,
        input_ids: list[list[int]],
        max_new_tokens: int,
        decoding: DecodingOptions,
        target_token: str | None,
    ) -> list[tuple[str, bool]]:
        """Returns (text, was_cut) per input, in input order.

        `input_ids` are the tokenizer's ids including its special tokens (NLLB's source language
        code, </s>). `target_token` (NLLB's `eng_Latn`) must be the first generated token.
        `was_cut` is true when an output reached `max_new_tokens` without ending.
        """
        ...

    def summarize_batch(self, loaded: LoadedModel, texts: list[str], decoding: SummaryDecoding) -> list[str]:
        """One summary per text, in order; the checkpoint's length penalty and forced BOS apply."""
        ...


# The backends by the name `ModelSpec.backend` gives, as "module:class", imported on first use:
# the model store names no backend, and a CTranslate2 process never imports torch.
BACKENDS = {
    "transformers": "pipeline.backends:TransformersBackend",
    "ctranslate2": "pipeline.ct2:CTranslate2Backend",
}


def backend_for(name: str) -> Backend:
    """A new instance of the backend `name` (a key of `BACKENDS`)."""
    module, _, cls = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), cls)()


class TransformersBackend:
    """model.generate on the checkpoint loaded by transformers (float32 on CPU, float16 on CUDA)."""

    def generate_batch(
        self,
        loaded: LoadedModel,
        input_ids: list[list[int]],
        max_new_tokens: int,
        decoding: DecodingOptions,
        target_token: str | None,
    ) -> list[tuple[str, bool]]:
        import torch

        tok = loaded.tokenizer
        kwargs = generate_kwargs(tok, max_new_tokens, decoding, target_token)
        kwargs["suppress_tokens"] = suppressed_ids(loaded)
        inputs = tok.pad({"input_ids": input_ids}, return_tensors="pt")
        inputs = {k: v.to(loaded.device) for k, v in inputs.items()}
        with torch.inference_mode():
            out = loaded.model.generate(**inputs, **kwargs)
        texts = tok.batch_decode(out, skip_special_tokens=True)
        results = []
        forced_eos = loaded.model.generation_config.forced_eos_token_id is not None
        for row, text in enumerate(texts):
            # Less the decoder start token, which is <pad> itself for Marian, and the padding.
            seq = out[row].tolist()[1:]
            while seq and seq[-1] == tok.pad_token_id:
                seq.pop()
            produced = len(seq)
            # Marian and BART force </s> as the last token when the budget runs out, so an </s>
            # in that last place does not mean the output ended on its own.
            body = seq[:-1] if forced_eos and produced >= max_new_tokens else seq
            cut = produced >= max_new_tokens and tok.eos_token_id not in body
            results.append((text.strip(), cut))
        return results

    def summarize_batch(self, loaded: LoadedModel, texts: list[str], decoding: SummaryDecoding) -> list[str]:
        import torch

        tok = loaded.tokenizer
        # The checkpoint's forced <s> and length penalty come with the model's generation config.
        inputs = tok(with_prefix(loaded, texts), return_tensors="pt", padding=True)
        inputs = {k: v.to(loaded.device) for k, v in inputs.items()}
        with torch.inference_mode():
            out = loaded.model.generate(
                **inputs,
                num_beams=decoding.num_beams,
                min_new_tokens=decoding.min_new_tokens,
                max_new_tokens=decoding.max_new_tokens,
                no_repeat_ngram_size=decoding.no_repeat_ngram_size,
                suppress_tokens=suppressed_ids(loaded),
            )
        return [t.strip() for t in tok.batch_decode(out, skip_special_tokens=True)]


@dataclass
class LoadedModel:
    name: str
    spec: ModelSpec
    model: Any
    tokenizer: Any
    revision: str
    device: str
    backend: Backend = field(default_factory=TransformersBackend)
    # The generation settings transformers uses for the checkpoint (pipeline.ct2.generation_settings).
    generation: dict[str, Any] = field(default_factory=dict)
    # The output vocabulary it decodes with (`all`, `english`, `latin`: see ModelSpec) and why.
    vocabulary: str = "all"
    vocabulary_note: str = ""

    @property
    def vocabulary_label(self) -> str:
        """What a brief says of the output vocabulary: "english (auto: verified ...)"."""
        return f"{self.vocabulary} ({self.vocabulary_note})" if self.vocabulary_note else self.vocabulary


def with_prefix(loaded: LoadedModel, texts: list[str]) -> list[str]:
    """The inputs as transformers' summarization pipeline gives them to the model: after the
    checkpoint's `prefix` (distilbart-cnn's is a space)."""
    prefix = loaded.generation.get("prefix") or ""
    return [prefix + text for text in texts]


def suppressed_ids(loaded: LoadedModel) -> list[int]:
    """`<unk>` and every output row no token owns (ids from the tokenizer's length up to the
    model's vocabulary size)."""
    tok = loaded.tokenizer
    rows = loaded.model.config.get_text_config(decoder=True).vocab_size
    return [tok.unk_token_id, *range(len(tok), rows)]


def generate_kwargs(
    tokenizer, max_new_tokens: int, decoding: DecodingOptions, target_token: str | None
) -> dict:
    """The keyword arguments of `model.generate` for these settings."""
    kwargs: dict[str, object] = {"num_beams": decoding.num_beams, "max_new_tokens": max_new_tokens}
    if decoding.no_repeat_ngram_size:
        kwargs["no_repeat_ngram_size"] = decoding.no_repeat_ngram_size
    if decoding.repetition_penalty > 1:
        kwargs["repetition_penalty"] = decoding.repetition_penalty
    if target_token:
        kwargs["forced_bos_token_id"] = tokenizer.convert_tokens_to_ids(target_token)
    return kwargs
