"""The LLM runtime's Python side: fixtures and converters to GGUF (through llama.cpp's own
gguf-py writer, from scripts/install-llama-cpp.sh) and a PyTorch reference of the
architectures the C++ runtime runs."""
