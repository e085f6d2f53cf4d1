"""The tuned adapter out: a PEFT folder with a model card, a merged model, a llama.cpp GGUF
adapter with an Ollama Modelfile; and ways to try and score a saved adapter.

    from loratune.deploy import export_adapter, try_adapter, evaluate_adapter

    export_adapter("runs/legal/best", "gguf", "legal-gguf")
    print(try_adapter("runs/legal/best", "The lessee shall ...", compare=True).answer)
    print(evaluate_adapter("runs/legal/best", "held_out.csv").accuracy)
"""

from loratune.deploy.card import model_card, wilson, write_model_card
from loratune.deploy.export import FORMATS, export_adapter
from loratune.deploy.gguf_lora import read_base_gguf, write_lora_gguf
from loratune.deploy.use import Answer, Evaluation, evaluate_adapter, try_adapter

__all__ = [
    "FORMATS",
    "Answer",
    "Evaluation",
    "evaluate_adapter",
    "export_adapter",
    "model_card",
    "read_base_gguf",
    "try_adapter",
    "wilson",
    "write_lora_gguf",
    "write_model_card",
]
