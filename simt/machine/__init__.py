"""How a program runs: register file, memory, scheduler, kernels, executor, device."""
