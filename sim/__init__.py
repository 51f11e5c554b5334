"""tessera.sim"""
