"""Running the stages: configs, notebook contracts, the stage graph, the runner, kernels,
reuse, sweeps, reruns and the Dask executor."""
