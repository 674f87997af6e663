package stage

// SetAfterPublish installs a hook that runs between publishing a handler's
// output and acknowledging its input, to simulate a crash there.
func SetAfterPublish(cfg *Config, f func(Msg)) { cfg.afterPublish = f }
