// AXI4-Lite control slave: the register map of tessera.hw.regmap.
//
// Read-write: INSN_ADDR, INSN_COUNT, WATCHDOG (reset value WATCHDOG_DEFAULT; 0 disables it).
// CTRL writes give one-cycle pulses: bit0 start, bit1 soft reset. Everything else is read-only
// and comes in from the control block. Unmapped addresses read 0 and ignore writes; every
// response is OKAY. Registers are decoded by word address; writes honour wstrb per byte. The AXI port names carry no _i/_o suffix
// so that cocotbext-axi's from_prefix finds them.
`default_nettype none

module tessera_axil_slave (
    input  wire        clk_i,
    input  wire        rst_ni,
    // AXI4-Lite slave
    input  wire [7:0]  s_axil_awaddr,
    input  wire [2:0]  s_axil_awprot,
    input  wire        s_axil_awvalid,
    output wire        s_axil_awready,
    input  wire [31:0] s_axil_wdata,
    input  wire [3:0]  s_axil_wstrb,
    input  wire        s_axil_wvalid,
    output wire        s_axil_wready,
    output wire [1:0]  s_axil_bresp,
    output wire        s_axil_bvalid,
    input  wire        s_axil_bready,
    input  wire [7:0]  s_axil_araddr,
    input  wire [2:0]  s_axil_arprot,
    input  wire        s_axil_arvalid,
    output wire        s_axil_arready,
    output wire [31:0] s_axil_rdata,
    output wire [1:0]  s_axil_rresp,
    output wire        s_axil_rvalid,
    input  wire        s_axil_rready,
    // register side
    output wire        start_o,
    output wire        soft_reset_o,
    output wire [31:0] insn_addr_o,
    output wire [31:0] insn_count_o,
    output wire [31:0] watchdog_o,
    input  wire [2:0]  ctrl_i,        // {error, done, busy}
    input  wire [31:0] status_i,
    input  wire [31:0] cycles_i,
    input  wire [31:0] error_pc_i,
    input  wire [351:0] counters_i    // LOAD_BUSY .. INSN_DONE, 32 bits each, in map order
);
`include "tessera_params.vh"

  reg        aw_full_q, aw_full_d;
  reg [7:0]  aw_addr_q, aw_addr_d;
  reg        w_full_q, w_full_d;
  reg [31:0] w_data_q, w_data_d;
  reg [3:0]  w_strb_q, w_strb_d;
  reg        bvalid_q, bvalid_d;
  reg        rvalid_q, rvalid_d;
  reg [31:0] rdata_q, rdata_d;
  reg [31:0] insn_addr_q, insn_addr_d;
  reg [31:0] insn_count_q, insn_count_d;
  reg [31:0] watchdog_q, watchdog_d;
  reg        start_q, start_d;
  reg        soft_reset_q, soft_reset_d;

  wire aw_hs = s_axil_awvalid && !aw_full_q && !bvalid_q;
  wire w_hs = s_axil_wvalid && !w_full_q && !bvalid_q;
  wire ar_hs = s_axil_arvalid && !rvalid_q;

  function [31:0] merge;
    input [31:0] old;
    input [31:0] data;
    input [3:0]  strb;
    integer k;
    begin
      for (k = 0; k < 4; k = k + 1)
        merge[k*8 +: 8] = strb[k] ? data[k*8 +: 8] : old[k*8 +: 8];
    end
  endfunction

  // registers are decoded by word: the byte lanes of an unaligned access come from wstrb
  wire [7:0] rd_word = {s_axil_araddr[7:2], 2'b00};
  reg [31:0] read_value;
  integer k;
  always @* begin
    k = 0;
    read_value = 32'd0;
    case (rd_word)
      REG_CTRL[7:0]:       read_value = {29'd0, ctrl_i};
      REG_STATUS[7:0]:     read_value = status_i;
      REG_INSN_ADDR[7:0]:  read_value = insn_addr_q;
      REG_INSN_COUNT[7:0]: read_value = insn_count_q;
      REG_CYCLES[7:0]:     read_value = cycles_i;
      REG_ERROR_PC[7:0]:   read_value = error_pc_i;
      REG_WATCHDOG[7:0]:   read_value = watchdog_q;
      default: begin
        for (k = 0; k < 11; k = k + 1)
          if (rd_word[7:2] == REG_LOAD_BUSY[7:2] + k[5:0])
            read_value = counters_i[k*32 +: 32];
      end
    endcase
  end

  always @* begin
    aw_full_d = aw_full_q;
    aw_addr_d = aw_addr_q;
    w_full_d = w_full_q;
    w_data_d = w_data_q;
    w_strb_d = w_strb_q;
    bvalid_d = bvalid_q;
    rvalid_d = rvalid_q;
    rdata_d = rdata_q;
    insn_addr_d = insn_addr_q;
    insn_count_d = insn_count_q;
    watchdog_d = watchdog_q;
    start_d = 1'b0;
    soft_reset_d = 1'b0;
    if (aw_hs) begin
      aw_full_d = 1'b1;
      aw_addr_d = s_axil_awaddr;
    end
    if (w_hs) begin
      w_full_d = 1'b1;
      w_data_d = s_axil_wdata;
      w_strb_d = s_axil_wstrb;
    end
    if (aw_full_q && w_full_q) begin
      aw_full_d = 1'b0;
      w_full_d = 1'b0;
      bvalid_d = 1'b1;
      case ({aw_addr_q[7:2], 2'b00})
        REG_CTRL[7:0]: begin
          start_d = w_strb_q[0] && w_data_q[0];
          soft_reset_d = w_strb_q[0] && w_data_q[1];
        end
        REG_INSN_ADDR[7:0]:  insn_addr_d = merge(insn_addr_q, w_data_q, w_strb_q);
        REG_INSN_COUNT[7:0]: insn_count_d = merge(insn_count_q, w_data_q, w_strb_q);
        REG_WATCHDOG[7:0]:   watchdog_d = merge(watchdog_q, w_data_q, w_strb_q);
        default: ;
      endcase
    end
    if (bvalid_q && s_axil_bready) bvalid_d = 1'b0;
    if (ar_hs) begin
      rvalid_d = 1'b1;
      rdata_d = read_value;
    end else if (rvalid_q && s_axil_rready) begin
      rvalid_d = 1'b0;
    end
  end

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      aw_full_q <= 1'b0;
      aw_addr_q <= 8'd0;
      w_full_q <= 1'b0;
      w_data_q <= 32'd0;
      w_strb_q <= 4'd0;
      bvalid_q <= 1'b0;
      rvalid_q <= 1'b0;
      rdata_q <= 32'd0;
      insn_addr_q <= 32'd0;
      insn_count_q <= 32'd0;
      watchdog_q <= WATCHDOG_DEFAULT;
      start_q <= 1'b0;
      soft_reset_q <= 1'b0;
    end else begin
      aw_full_q <= aw_full_d;
      aw_addr_q <= aw_addr_d;
      w_full_q <= w_full_d;
      w_data_q <= w_data_d;
      w_strb_q <= w_strb_d;
      bvalid_q <= bvalid_d;
      rvalid_q <= rvalid_d;
      rdata_q <= rdata_d;
      insn_addr_q <= insn_addr_d;
      insn_count_q <= insn_count_d;
      watchdog_q <= watchdog_d;
      start_q <= start_d;
      soft_reset_q <= soft_reset_d;
    end
  end

  wire unused_ok = &{1'b0, s_axil_awprot, s_axil_arprot, s_axil_araddr[1:0], 1'b0};

  assign s_axil_awready = !aw_full_q && !bvalid_q;
  assign s_axil_wready = !w_full_q && !bvalid_q;
  assign s_axil_bresp = 2'b00;
  assign s_axil_bvalid = bvalid_q;
  assign s_axil_arready = !rvalid_q;
  assign s_axil_rdata = rdata_q;
  assign s_axil_rresp = 2'b00;
  assign s_axil_rvalid = rvalid_q;
  assign start_o = start_q;
  assign soft_reset_o = soft_reset_q;
  assign insn_addr_o = insn_addr_q;
  assign insn_count_o = insn_count_q;
  assign watchdog_o = watchdog_q;
endmodule

`default_nettype wire
