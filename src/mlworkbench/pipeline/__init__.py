"""Running the stages: configs, notebook contracts, the stage graph, the runner, kernels, reuse, sweeps, reruns, the Dask executor."""
